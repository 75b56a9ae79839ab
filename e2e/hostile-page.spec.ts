// Attacks by script in the page (and, for one, by a link) on the broker's
// configuration: the worker's settings are the server's, a registration page
// script made is removed, and a downgraded worker gets nothing from the server.
import type { Page } from '@playwright/test';
import { decodeJwt } from 'jose';
import { readFileSync } from 'node:fs';
import { apiFetch, captureIssuedTokens, expect, login, messageWorkerUnderSecond, openApp, readBrokerRecord, status, test } from './support/fixtures';

const controllerOf = (page: Page) => page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null);
const scopes = (page: Page) => page.evaluate(() => navigator.serviceWorker.getRegistrations().then((rs) => rs.map((r) => r.scope).sort()));

test.describe('page script that registers its own broker worker', () => {
  test('under narrower scopes, with settings in its query: the client removes it, the login is DPoP-bound and sign-out revokes', async ({
    context,
    page,
    server,
  }) => {
    const issued = await captureIssuedTokens(context);
    await openApp(page, server);
    // The attack, run once: workers that the browser prefers for the app's pages (longest scope wins).
    await page.evaluate(async () => {
      await navigator.serviceWorker.register('/sw-dpop.js?dpop=false&endpoints.logout=/elsewhere&persist=indexeddb', { scope: '/index.html' });
      await navigator.serviceWorker.register('/sw.js', { scope: '/?' });
    });
    expect((await scopes(page)).length).toBe(3);

    // Later visits: by the app's own link, and by a cross-site link that tries a setting in the app's address.
    const tabs: Page[] = [];
    for (const path of ['/index.html', '/?dpop=false']) {
      const tab = await context.newPage();
      await openApp(tab, server, path);
      expect(await controllerOf(tab), path).toBe(`${server.url}/sw-dpop.js`);
      tabs.push(tab);
    }
    expect(await scopes(page)).toEqual([`${server.url}/`]);

    const session = await login(tabs[0]!);
    expect(session.authenticated).toBe(true);
    const cnf = decodeJwt(issued.at(-1)!).cnf as { jkt?: string } | undefined;
    expect(cnf?.jkt).toBeTruthy();
    await tabs[1]!.evaluate(() => window.tokenBroker.logout());
    expect(server.stats.logoutRevoked).toBe(1);
  });

  test('with onForeignWorker: reject, a page a foreign worker still controls gets foreign_worker instead of a reload, and the registration is gone', async ({
    context,
    page,
    server,
  }) => {
    await openApp(page, server);
    await page.evaluate(() => navigator.serviceWorker.register('/sw.js', { scope: '/index.html' }).then(() => undefined));
    // A page of the app's that starts the client itself, with the option.
    await context.route('**/index.html', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>app</title>' }));
    await context.route('**/client.js', (route) => route.fulfill({ path: 'dist/client/index.js', contentType: 'text/javascript' }));
    const tab = await context.newPage();
    await tab.goto(`${server.url}/index.html`);
    await expect.poll(() => controllerOf(tab)).toBe(`${server.url}/sw.js`);
    const loads = await tab.evaluate(() => performance.getEntriesByType('navigation').length);
    const error = await tab.evaluate(async () => {
      const client = (await import('/client.js' as string)) as { registerTokenBroker: (o: object) => Promise<unknown> };
      return client.registerTokenBroker({ scriptURL: '/sw-dpop.js', onForeignWorker: 'reject' }).then(
        () => null,
        (e: { code: string }) => e.code,
      );
    });
    expect(error).toBe('foreign_worker');
    expect(await tab.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(loads);
    expect(await scopes(tab)).toEqual([`${server.url}/`]);
  });

  test('a worker that claims the page after the client started: login is refused with foreign_worker, nothing is sent', async ({ page, server }) => {
    await openApp(page, server, '/index.html');
    await page.evaluate(async () => {
      const changed = new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
      await navigator.serviceWorker.register('/sw.js', { scope: '/index.html' });
      await changed;
    });
    expect(await controllerOf(page)).toBe(`${server.url}/sw.js`);
    const error = await page.evaluate(() =>
      window.tokenBroker.login({ username: 'alice', password: 'wonderland' }).then(
        () => null,
        (e: { code: string }) => e.code,
      ),
    );
    expect(error).toBe('foreign_worker');
    expect(server.stats.login).toBe(0);
  });

  test('a standalone script registered with a query fails closed: it refuses every message and intercepts nothing', async ({ context, page, server }) => {
    const reply = await messageWorkerUnderSecond(context, page, server, '/sw-dpop.js?dpop=false', { type: 'broker:login', credentials: { username: 'alice', password: 'wonderland' } });
    expect(reply).toMatchObject({ ok: false, error: { code: 'bad_config' } });
    expect(JSON.stringify(reply)).toContain('bad_config script URL query');
    expect(server.stats.login).toBe(0);
  });

  test('the reference setup fails closed: a bearer-only worker page script registered gets no login from the server (DPOP=required)', async ({
    context,
    page,
    server,
  }) => {
    const reply = await messageWorkerUnderSecond(context, page, server, '/sw.js', { type: 'broker:login', credentials: { username: 'alice', password: 'wonderland' } });
    expect(reply).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(server.stats.login).toBe(0);
  });
});

test.describe('an unconfigured copy of a standalone script (served without its configuration line)', () => {
  // The settings such a copy would undo: tokens in worker memory only.
  test.use({ serverOptions: { dpop: 'optional', dpopNonce: false, workerConfig: { dpop: false, persist: 'memory' } } });

  for (const build of ['sw.js', 'sw-dpop.js']) {
    test(`registered by page script under a scope of its own (${build}): it answers bad_config, and its pages' API requests go out untouched`, async ({ context, page, server }) => {
      await openApp(page, server);
      await login(page);
      // A same-origin static copy as it ships (node_modules, an unprocessed copy): no self.tokenBrokerConfig at all.
      const raw = readFileSync(`public/${build}`, 'utf8');
      expect(raw).not.toContain('tokenBrokerConfig=');
      await context.route(`**/second/raw-${build}`, (route) => route.fulfill({ contentType: 'text/javascript', body: raw }));
      const reply = await messageWorkerUnderSecond(context, page, server, `/second/raw-${build}`, { type: 'broker:status' });
      expect(reply).toEqual({ ok: false, error: { code: 'bad_config', message: 'bad_config tokenBrokerConfig' } });
      expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(`${server.url}/second/raw-${build}`);
      // Reaches the server as page script sent it: no token, and no silent restore with the cookie.
      expect((await apiFetch(page, '/api/me')).status).toBe(401);
      expect(server.stats.refresh).toBe(0);
      expect(await readBrokerRecord(page)).toMatchObject({ token: null });
    });
  }
});

test('hostile JSON from the page: a body nested 5,000 levels deep is a 400 with a JSON error, and the API carries on', async ({ page, server }) => {
  await openApp(page, server);
  await login(page);
  const deep = '['.repeat(5_000) + ']'.repeat(5_000);
  const res = await apiFetch(page, '/api/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep });
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ error: 'bad_request', message: expect.stringContaining('nested deeper') });
  const ok = await apiFetch(page, '/api/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":[1,{"b":2}]}' });
  expect(ok).toMatchObject({ status: 200, body: { body: { a: [1, { b: 2 }] } } });
});

test.describe('password guessing', () => {
  // Without DPoP required: a login without a proof would be refused before any password check.
  test.use({ serverOptions: { dpop: 'optional', dpopNonce: false } });

test('300 concurrent password guesses from a page the worker does not control: no more than the per-account limit is ever checked', async ({
  browser,
  server,
}) => {
  // An uncontrolled page of the origin (the worker would refuse these requests itself).
  const context = await browser.newContext({ serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/public/ping`);
    const statuses = await page.evaluate(() =>
      Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          fetch('/auth/login', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-token-broker': '1' },
            body: JSON.stringify({ username: 'alice', password: i === 150 ? 'wonderland' : `guess-${i}` }),
          }).then((r) => r.status),
        ),
      ),
    );
    expect(server.stats.passwordChecks).toBe(server.settings.loginAccountRateLimit);
    expect(statuses.filter((s) => s === 429)).toHaveLength(300 - server.settings.loginAccountRateLimit);
    expect(server.stats.login).toBe(0);
  } finally {
    await context.close();
  }
});
});

test.describe('a bearer token stolen while the script ran, with sliding renewal on', () => {
  const TTL = 6;
  test.use({
    serverOptions: {
      dpop: 'optional',
      dpopNonce: false,
      accessTokenTtl: TTL,
      refreshAbsoluteTtl: 5,
      renewHeader: 'x-renewed-token',
      workerConfig: { dpop: false, renewHeader: 'x-renewed-token', refreshBeforeExpiry: 1 },
    },
  });

  /** The attacker's own use of the token, from outside the browser. */
  const useStolen = (url: string, token: string) => fetch(`${url}/api/me`, { headers: { authorization: `Bearer ${token}` } });

  for (const end of ['sign-out', 'sign out everywhere'] as const) {
    test(`is refused at once, and cannot renew itself, after ${end}`, async ({ context, page, server }) => {
      const issued = await captureIssuedTokens(context);
      await openApp(page, server);
      await login(page);
      const stolen = issued.at(-1)!;
      // Renewal works while the session lives: the control that shows the attack would work.
      await page.waitForTimeout((TTL / 2) * 1000 + 300);
      const live = await useStolen(server.url, stolen);
      expect(live.headers.get('x-renewed-token')).toBeTruthy();

      if (end === 'sign-out') await page.evaluate(() => window.tokenBroker.logout());
      else expect((await apiFetch(page, '/api/sessions/revoke-all', { method: 'POST' })).body).toMatchObject({ revoked: 1 });
      // Instant revocation (revocationCheck, on by default): the session's tokens are refused before they expire,
      // the one renewed while it lived too, and none of them is renewed on the way.
      const renewed = live.headers.get('x-renewed-token')!;
      for (const token of [stolen, renewed]) {
        const after = await useStolen(server.url, token);
        expect({ status: after.status, body: await after.json(), renewed: after.headers.get('x-renewed-token') }).toEqual({
          status: 401,
          body: { error: 'token_revoked', message: expect.any(String) },
          renewed: null,
        });
      }
    });
  }

  test('a renewed token never outlives the session\'s absolute end', async ({ context, page, server }) => {
    const issued = await captureIssuedTokens(context);
    await openApp(page, server);
    const loginAt = Date.now() / 1000;
    await login(page);
    await page.waitForTimeout((TTL / 2) * 1000 + 300);
    const renewed = (await useStolen(server.url, issued.at(-1)!)).headers.get('x-renewed-token')!;
    // Uncapped it would run to about loginAt + 9.3 s.
    expect(decodeJwt(renewed).exp!).toBeLessThanOrEqual(Math.ceil(loginAt + 5));
  });
});

test.describe('page script that holds the broker\'s Web Lock for ever', () => {
  test.use({ serverOptions: { accessTokenTtl: 4, workerConfig: { refreshBeforeExpiry: 1 } } });

  test('wedges nothing: refresh, API calls after expiry, logout (revoked on the server) and login all finish within seconds', async ({
    context,
    page,
    server,
  }) => {
    await openApp(page, server);
    await login(page);
    const holder = await context.newPage();
    await openApp(holder, server);
    await holder.evaluate(() => {
      void navigator.locks.request('token-broker:refresh', () => new Promise(() => undefined));
    });
    const held = await page.evaluate(() => navigator.locks.query().then((q) => q.held?.map((l) => l.name)));
    expect(held).toContain('token-broker:refresh');

    const timed = async <T>(what: () => Promise<T>): Promise<[T, number]> => {
      const start = Date.now();
      const value = await what();
      return [value, Date.now() - start];
    };
    const [refreshed, refreshMs] = await timed(() => page.evaluate(() => window.tokenBroker.refresh()));
    expect(refreshed.authenticated).toBe(true);
    expect(refreshMs).toBeLessThan(8_000);
    await page.waitForTimeout(4_200);
    const [api] = await timed(() => apiFetch(page, '/api/me'));
    expect(api.status).toBe(200);
    const [out, logoutMs] = await timed(() => page.evaluate(() => window.tokenBroker.logout()));
    expect(out.authenticated).toBe(false);
    expect(logoutMs).toBeLessThan(8_000);
    expect(server.stats.logoutRevoked).toBe(1);
    expect((await login(page, 'bob', 'builder')).claims).toMatchObject({ sub: 'bob' });
  });
});

test.describe('page script that calls the token endpoints past the worker', () => {
  test('percent-encoded spellings are refused by the worker (a POST never skips it) and by the server (404): no token, no sign-out', async ({
    page,
    server,
  }) => {
    await openApp(page, server);
    await login(page);
    const before = { ...server.stats };
    for (const path of ['/%61uth/login', '/%61uth/logout', '/%61uth/refresh', '/auth/%6Cogin']) {
      const res = await apiFetch(page, path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-token-broker': '1' },
        body: JSON.stringify({ username: 'alice', password: 'wonderland' }),
      });
      expect(res.status, path).toBe(403);
      expect(res.body, path).toMatchObject({ error: { code: 'endpoint_reserved' } });
      expect(JSON.stringify(res.body), path).not.toContain('access_token');
    }
    expect(server.stats).toEqual(before);
    expect((await status(page)).authenticated).toBe(true);
  });

  test('requests the worker never sees (synchronous XHR, a src-less iframe) get no token from the reference setup: they carry no DPoP proof', async ({
    page,
    server,
  }) => {
    await openApp(page, server);
    await login(page);
    const before = { ...server.stats };
    const sync = await page.evaluate(() => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/auth/refresh', false);
      xhr.setRequestHeader('x-token-broker', '1');
      xhr.setRequestHeader('content-type', 'application/json');
      xhr.send('{}');
      return { status: xhr.status, body: xhr.responseText };
    });
    const framed = await page.evaluate(async () => {
      const frame = document.createElement('iframe');
      document.body.append(frame);
      const res = await frame.contentWindow!.fetch('/auth/refresh', { method: 'POST', headers: { 'x-token-broker': '1', 'content-type': 'application/json' }, body: '{}' });
      return { status: res.status, body: await res.text() };
    });
    for (const res of [sync, framed]) {
      // Reached the server (the worker did not see them), and were refused there for want of a proof.
      expect(res.status).toBe(400);
      expect(res.body).toContain('invalid_dpop_proof');
      expect(res.body).not.toContain('access_token');
    }
    expect(server.stats.refresh).toBe(before.refresh);
    // The refusal left the cookie and the session as they were.
    expect((await page.evaluate(() => window.tokenBroker.refresh())).authenticated).toBe(true);
  });
});
