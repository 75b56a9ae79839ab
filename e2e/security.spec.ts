// The security claims of the README, tested as an attacker in the page would
// try them: token endpoints, injection rules, hostile messages, and every place
// page script can read.
import type { BrowserContext, Page } from '@playwright/test';
import { startServer } from '../reference-server/app';
import { apiFetch, captureIssuedTokens, expect, login, messageWorkerUnderSecond, openApp, readAllBrokerRecords, readBrokerRecord, status, stopWorkers, test } from './support/fixtures';
import { uncheckedWorkerScript } from '../test-support/unchecked-worker-script';

interface SeenRequest {
  url: string;
  authorization: string | null;
  cookie: string | null;
  fromWorker: boolean;
}

/** Records every request of the context as it leaves the browser (the worker's included). */
async function recordRequests(context: BrowserContext): Promise<SeenRequest[]> {
  const seen: SeenRequest[] = [];
  await context.route('**/*', async (route) => {
    const request = route.request();
    const headers = await request.allHeaders();
    seen.push({
      url: request.url(),
      authorization: headers['authorization'] ?? null,
      cookie: headers['cookie'] ?? null,
      fromWorker: request.serviceWorker() !== null,
    });
    await route.continue();
  });
  return seen;
}

test.describe('token endpoints are closed to pages', () => {
  test('the development build explains its errors in full', async ({ context, page, server }) => {
    const unknown = (await messageWorkerUnderSecond(context, page, server, '/sw-dpop.dev.js', { type: 'broker:nope' })) as { error: { code: string; message: string } };
    expect(unknown.error).toEqual({ code: 'bad_request', message: 'unknown message type "broker:nope"' });
    const refusal = (await apiFetch(page, '/auth/refresh', { method: 'POST' })).body as { error: { code: string; message: string } };
    expect(refusal.error.code).toBe('endpoint_reserved');
    expect(refusal.error.message).toContain(`${server.url}/sw-dpop.dev.js (scope ${server.url}/second/)`);
    expect(refusal.error.message).toContain('left over from another app');
  });

  test('the production build answers the same message with the code and the fact', async ({ context, page, server }) => {
    const unknown = (await messageWorkerUnderSecond(context, page, server, '/sw-dpop.js', { type: 'broker:nope' })) as { error: { code: string; message: string } };
    expect(unknown.error).toEqual({ code: 'bad_request', message: '"broker:nope"' });
  });

  test('a page script calling login, refresh or logout gets a 403 from the worker, never forwarded; navigations are the server\'s', async ({ context, page, server }) => {
    const seen = await recordRequests(context);
    await openApp(page, server);
    await login(page);
    const before = { ...server.stats };
    const paths = ['/auth/login', '/auth/refresh', '/auth/logout', '/auth/%72efresh', '/auth//refresh', '/auth/refresh/'];
    for (const path of paths) {
      const res = await apiFetch(page, path, { method: 'POST', headers: { 'x-token-broker': '1' }, body: '{}' });
      expect(res.status, path).toBe(403);
      expect(res.body, path).toMatchObject({ error: { code: 'endpoint_reserved' } });
    }
    // A worker left over from another app on this origin is diagnosable from the message alone:
    // the production build names the worker and its scope (the development build explains, below).
    const refusal = (await apiFetch(page, '/auth/refresh', { method: 'POST' })).body as { error: { message: string } };
    expect(refusal.error.message).toBe(`/auth/refresh: reserved by ${server.url}/sw-dpop.js (scope ${server.url}/)`);
    // A navigation is never reserved (an SPA may route /auth/login): a form post goes to the
    // server, whose CSRF check refuses it, since a form cannot send the worker's header.
    const nav = await context.newPage();
    await nav.goto(`${server.url}/auth/login`);
    expect(await nav.textContent('body')).not.toContain('endpoint_reserved');
    await page.evaluate(() => {
      const form = document.createElement('form');
      form.method = 'POST';
      form.action = '/auth/refresh';
      document.body.append(form);
      form.submit();
    });
    await page.waitForURL('**/auth/refresh');
    // Refused: as not JSON (Fastify's 415), or by the CSRF check (a form cannot send the worker's header).
    expect((JSON.parse((await page.textContent('body'))!) as { error: string }).error).toMatch(/^(unsupported_media_type|csrf)$/);
    expect(server.stats).toEqual(before);
    await openApp(page, server);
    await page.evaluate(() => window.tokenBroker.refresh());
    // The refresh cookie left the browser on the worker's own requests, and on the two navigations the server refused.
    const withCookie = seen.filter((r) => r.cookie?.includes('broker_rt'));
    expect(withCookie.filter((r) => r.fromWorker).length).toBeGreaterThan(0);
    expect(withCookie.filter((r) => !r.fromWorker).map((r) => new URL(r.url).pathname)).toEqual(['/auth/login', '/auth/refresh']);
    expect(withCookie.every((r) => new URL(r.url).pathname.startsWith('/auth/'))).toBe(true);
  });
});

test.describe('injection rules', () => {
  test.use({ bypassCSP: true });

  test('only same-origin cors requests under the API prefix carry the token: not navigations, no-cors, other paths, other origins or redirects', async ({
    context,
    page,
    server,
  }) => {
    const other = await startServer();
    try {
      const seen = await recordRequests(context);
      await openApp(page, server);
      await login(page);
      const probes = ['/apix/ping', '/api/../ping-auth', '/api%2F..%2Fping-auth', '/API/me', '/public/ping', '/ping-auth?/api/me'];
      for (const path of probes) await apiFetch(page, path);
      await page.evaluate(() => fetch('/api/me', { mode: 'no-cors' }));
      await page.evaluate((url) => fetch(url, { mode: 'no-cors' }).then((r) => r.text()), `${other.url}/api/me`);
      const nav = await context.newPage();
      await nav.goto(`${server.url}/api/me`);
      expect(await nav.textContent('body')).toContain('invalid_token');
      expect((await apiFetch(page, '/api/me')).status).toBe(200);

      const carrying = seen.filter((r) => r.authorization !== null);
      expect(carrying.length).toBeGreaterThan(0);
      for (const r of carrying) {
        const url = new URL(r.url);
        expect(url.origin, r.url).toBe(server.url);
        expect(url.pathname.startsWith('/api/'), r.url).toBe(true);
        expect(r.fromWorker, r.url).toBe(true);
      }
      const outsideAsked = seen.filter((r) => /ping|API\/me/.test(r.url) || r.url.startsWith(other.url));
      expect(outsideAsked.length).toBeGreaterThanOrEqual(probes.length);
      expect(outsideAsked.every((r) => r.authorization === null)).toBe(true);
      // The no-cors call and the navigation reached the server, and without a token.
      expect(seen.filter((r) => r.url === `${server.url}/api/me` && r.authorization === null).length).toBeGreaterThanOrEqual(2);
    } finally {
      await other.close();
    }
  });

  test('a path under the prefix that hides an encoded /, \\ or . gets no token: a proxy that decodes it would route it outside /api/', async ({ context, page, server }) => {
    const seen = await recordRequests(context);
    await openApp(page, server);
    await login(page);
    const probes = ['/api/..%2Fping-auth', '/api/%2e%2e%2fping-auth', '/api/..%5Cping-auth', '/api/x%2E%2E/ping-auth'];
    for (const path of probes) await apiFetch(page, path);
    expect((await apiFetch(page, '/api/me')).status).toBe(200);
    const asked = seen.filter((r) => r.url.includes('ping-auth'));
    expect(asked.length).toBeGreaterThanOrEqual(probes.length);
    for (const r of asked) expect(r.authorization, r.url).toBeNull();
  });

  test('an API response that redirects is not followed with the token: not to another path, not to another origin', async ({ context, page, server }) => {
    const other = await startServer();
    try {
      const seen = await recordRequests(context);
      const outside = `${other.url}/cors/ping-auth`;
      // The reference server redirects only to its own paths; a hop to another origin is made on the wire.
      await context.route('**/api/hop-out', (route) => route.fulfill({ status: 302, headers: { location: outside } }));
      await openApp(page, server);
      await login(page);
      for (const path of ['/api/redirect?to=/apix/ping', '/api/redirect?to=/public/ping', '/api/redirect?to=/api/me', '/api/hop-out']) {
        const res = await apiFetch(page, path);
        expect(res.status, path).toBe(502);
        expect(res.body, path).toMatchObject({ error: { code: 'redirect_refused' } });
      }
      // A page that asks for redirect: 'manual' gets the opaque redirect, as without the broker.
      expect(await page.evaluate(() => fetch('/api/redirect?to=/apix/ping', { redirect: 'manual' }).then((r) => r.type))).toBe('opaqueredirect');
      // No redirect target was ever requested, so none saw the token or a proof.
      const targets = seen.filter((r) => /^\/(apix|public)\/ping$|^\/cors\/ping-auth$/.test(new URL(r.url).pathname));
      expect(targets).toEqual([]);
      expect(seen.filter((r) => r.url.includes('/api/redirect') && r.authorization).length).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
  });

  for (const [config, key] of [
    [{ apiPrefixes: ['https://evil.example/api/'] }, 'apiPrefixes'],
    [{ apiPrefixes: ['/'] }, 'apiPrefixes'],
    [{ endpoints: { refresh: 'https://evil.example/auth/refresh' } }, 'endpoints.refresh'],
    [{ colour: 'blue' }, 'colour'],
    [{ persist: 'disk' }, 'persist'],
  ] as const) {
    test.describe(`a worker served with a bad config (${JSON.stringify(config)})`, () => {
      // Served past the server's own check of WORKER_CONFIG, as a hand-written wrapper could.
      test.use({ serverParts: { workerScripts: { '/sw-dpop.js': { build: 'sw-dpop.js', config: config as object } }, configureWorker: uncheckedWorkerScript } });

    test(`is refused: registerTokenBroker() rejects with bad_config naming ${key}, and nothing is intercepted`, async ({ page, server }) => {
      await page.goto(server.url);
      await page.waitForFunction(() => document.body.dataset.ready === 'error', null, { timeout: 15_000 });
      const shown = await page.locator('#unsupported').textContent();
      expect(shown).toContain('bad_config');
      expect(shown).toContain(key);
      expect(server.stats.login).toBe(0);
      expect((await apiFetch(page, '/api/me')).status).toBe(401);
    });
    });
  }
});

test('1,000+ hostile messages get errors or are ignored, and the worker keeps working', async ({ page, server }) => {
  await openApp(page, server);
  await login(page);
  const outcome = await page.evaluate(async () => {
    const worker = navigator.serviceWorker.controller!;
    const junk: unknown[] = [null, undefined, 0, 42, 'broker:status', true, [], [{ type: 'broker:status' }], new Date(), new Map([['type', 'broker:login']])];
    const brokerShaped: unknown[] = [];
    const types = ['broker:', 'broker:LOGIN', 'broker:status ', 'broker:__proto__', 'broker:constructor', 'broker:session', 'broker:claim2'];
    for (let i = 0; i < 300; i++) brokerShaped.push({ type: `${types[i % types.length]}${i}` });
    for (let i = 0; i < 300; i++) {
      const credentials = [undefined, null, 'alice', 42, [], ['alice'], new Date(), { nested: { deep: 'x'.repeat(i) } }, new Blob(['x'])][i % 9];
      brokerShaped.push(i % 9 === 7 ? { type: 'broker:status', credentials } : { type: 'broker:login', credentials });
    }
    for (let i = 0; i < 200; i++) brokerShaped.push({ type: 'broker:logout', extra: i });
    brokerShaped.push({ type: 'broker:login', credentials: { username: 'alice', password: 'x'.repeat(17 * 1024) } });
    brokerShaped.push({ type: 'broker:login', credentials: { blob: 'x'.repeat(4 * 1024 * 1024) } });
    // Structured cloning turns these into plain, well-formed requests: they are answered normally.
    const wellFormedAfterCloning = [
      JSON.parse('{"type":"broker:status","__proto__":{"polluted":true}}') as unknown,
      Object.assign(Object.create({ inherited: 1 }) as object, { type: 'broker:status' }),
    ];
    for (let i = 0; i < 100; i++) junk.push({ type: `other-lib:${i}`, payload: i });
    for (let i = 0; i < 100; i++) junk.push({ kind: 'broker:login', type: i });

    const ask = (msg: unknown) =>
      new Promise<unknown>((resolve) => {
        const channel = new MessageChannel();
        const timer = setTimeout(() => resolve('no reply'), 1_500);
        channel.port1.onmessage = (e) => {
          clearTimeout(timer);
          resolve(e.data);
        };
        try {
          worker.postMessage(msg, [channel.port2]);
        } catch (e) {
          clearTimeout(timer);
          resolve(`not sent: ${(e as Error).name}`);
        }
      });
    // Not cloneable: the page's own postMessage throws; nothing reaches the worker.
    const uncloneable = [() => 1, Symbol('x'), { type: 'broker:login', credentials: { f: () => 1 } }];
    const unsent = await Promise.all(uncloneable.map(ask));
    // Without a reply port, even a well-formed logout must not act unseen.
    for (let i = 0; i < 50; i++) worker.postMessage({ type: 'broker:logout' });
    const replies = await Promise.all(brokerShaped.map(ask));
    const ignored = await Promise.all(junk.map(ask));
    const cloned = await Promise.all(wellFormedAfterCloning.map(ask));
    const codes: Record<string, number> = {};
    for (const r of replies) {
      const code = (r as { ok?: boolean; error?: { code?: string } })?.error?.code ?? JSON.stringify(r).slice(0, 40);
      codes[code] = (codes[code] ?? 0) + 1;
    }
    return { total: brokerShaped.length + junk.length + uncloneable.length + 50 + cloned.length, codes, cloned, ignored: ignored.filter((r) => r === 'no reply').length, junk: junk.length, unsent };
  });
  expect(outcome.total).toBeGreaterThanOrEqual(1_000);
  expect(Object.keys(outcome.codes)).toEqual(['bad_request']);
  // Answered like any other message: a session, or bad_request for the own "__proto__" key.
  for (const reply of outcome.cloned) expect(JSON.stringify(reply)).toMatch(/"ok":true,"session"|"code":"bad_request"/);
  expect(outcome.ignored).toBe(outcome.junk);
  expect(outcome.unsent.every((u) => String(u).startsWith('not sent: DataCloneError'))).toBe(true);

  expect(await status(page)).toMatchObject({ authenticated: true, claims: { sub: 'alice' } });
  expect((await apiFetch(page, '/api/me')).status).toBe(200);
  expect((await page.evaluate(() => window.tokenBroker.logout())).authenticated).toBe(false);
  expect((await login(page, 'bob', 'builder')).claims).toMatchObject({ sub: 'bob' });
});

test('a window outside the worker scope is refused', async ({ context, page, server }) => {
  await context.route('**/second/', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>second</title>' }));
  await page.goto(`${server.url}/second/`);
  await page.evaluate(async () => {
    await navigator.serviceWorker.register('/sw.js', { scope: '/second/' });
    await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
  });
  const outsider = await context.newPage();
  await outsider.goto(`${server.url}/public/ping`);
  const reply = await outsider.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration('/second/');
    const channel = new MessageChannel();
    const answer = new Promise((r) => (channel.port1.onmessage = (e) => r(e.data)));
    reg!.active!.postMessage({ type: 'broker:login', credentials: { username: 'alice', password: 'wonderland' } }, [channel.port2]);
    return answer;
  });
  expect(reply).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  expect(server.stats.login).toBe(0);
});

test.describe('nothing page-readable holds a token', () => {

  async function watchPage(page: Page): Promise<string[]> {
    const consoleLines: string[] = [];
    page.on('console', (m) => consoleLines.push(m.text()));
    await page.addInitScript(() => {
      const w = window as unknown as { __seen: unknown[]; __responses: unknown[] };
      w.__seen = [];
      w.__responses = [];
      navigator.serviceWorker?.addEventListener('message', (e) => w.__seen.push(e.data));
      window.addEventListener('message', (e) => w.__seen.push(e.data));
      const original = window.fetch;
      window.fetch = async (...args) => {
        const res = await original(...args);
        const text = await res.clone().text();
        w.__responses.push({ url: res.url, status: res.status, headers: [...res.headers], text });
        return res;
      };
    });
    return consoleLines;
  }

  async function everythingReadable(page: Page, consoleLines: string[]): Promise<string> {
    const view = await page.evaluate(async () => {
      const w = window as unknown as { __seen: unknown[]; __responses: unknown[] };
      const cache: unknown[] = [];
      for (const name of await caches.keys()) {
        const c = await caches.open(name);
        for (const req of await c.keys()) {
          const res = await c.match(req);
          cache.push({ url: req.url, headers: [...req.headers], body: await res?.text() });
        }
      }
      return {
        cookie: document.cookie,
        local: { ...localStorage },
        session: { ...sessionStorage },
        cache,
        seen: w.__seen,
        responses: w.__responses,
        performance: performance.getEntries().map((e) => e.toJSON() as unknown),
      };
    });
    return JSON.stringify({ view, idb: await readBrokerRecord(page), consoleLines });
  }

  test('by default (persist memory) the worker\'s IndexedDB holds no token, before or after a restart: only whose session it is, the DPoP key (non-extractable) and nonces', async ({ context, page, server }) => {
    const issued = await captureIssuedTokens(context);
    await openApp(page, server);
    await login(page);
    expect((await apiFetch(page, '/api/me')).status).toBe(200);
    await page.evaluate(() => window.tokenBroker.refresh());
    await stopWorkers(context, page);
    expect(await status(page)).toMatchObject({ authenticated: true });
    expect((await apiFetch(page, '/api/me')).status).toBe(200);
    const records = await readAllBrokerRecords(page);
    const text = JSON.stringify(records);
    for (const token of issued) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(token.split('.')[2]);
    }
    // Login, the forced refresh, and the silent one that restored the stopped worker.
    expect(issued).toHaveLength(3);
    expect(records['session']).toEqual({ token: null, signedOut: false, sub: 'alice' });
    expect(records['dpop-key']).toMatchObject({ privateKey: { cryptoKey: 'private', extractable: false } });
    expect(Object.keys(records).filter((k) => k !== 'session' && k !== 'dpop-key' && !/nonce/.test(k))).toEqual([]);
  });

  test.describe('the default persistence, sliding renewal', () => {
    test.use({
      serverOptions: {
        accessTokenTtl: 6,
        renewHeader: 'x-renewed-token',
        workerConfig: { renewHeader: 'x-renewed-token', exposeClaims: ['sub'], refreshBeforeExpiry: 1 },
      },
    });

  test('after login, refresh, sliding renewal and logout (default: persist memory)', async ({ context, page, server }) => {
    const issued = await captureIssuedTokens(context);
    await context.route('**/api/**', async (route) => {
      const response = await route.fetch();
      const renewed = response.headers()['x-renewed-token'];
      if (renewed) issued.push(renewed);
      await route.fulfill({ response });
    });
    const consoleLines = await watchPage(page);
    await openApp(page, server);
    const replies: unknown[] = [await login(page)];
    await page.evaluate(() => fetch('/api/me').then((r) => r.text()));
    replies.push(await page.evaluate(() => window.tokenBroker.refresh()));
    await page.waitForTimeout(3_300);
    await page.evaluate(() => fetch('/api/headers').then((r) => r.text()));
    await page.evaluate(() => fetch('/api/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":1}' }).then((r) => r.text()));
    replies.push(await status(page));
    replies.push(await page.evaluate(() => window.tokenBroker.logout()));

    const everything = await everythingReadable(page, consoleLines) + JSON.stringify(replies);
    // Login, refresh, and at least one sliding renewal went through.
    expect(server.stats.login).toBe(1);
    expect(server.stats.refresh).toBe(1);
    expect(issued.length).toBeGreaterThanOrEqual(3);
    // The API saw the token (its answer is in what the page read), the page did not.
    expect(everything).toContain('authorized');
    for (const token of issued) {
      expect(everything).not.toContain(token);
      expect(everything).not.toContain(token.split('.')[2]);
    }
    expect(everything).not.toContain('broker_rt');
    // No response the page read kept the renewal header (its name is in the page URL, so match the header form).
    expect(everything).toContain('["content-type"');
    expect(everything).not.toContain('["x-renewed-token"');
  });
  });

  test.describe('exposeClaims sub and role', () => {
    test.use({ serverOptions: { workerConfig: { exposeClaims: ['sub', 'role'] } } });

  test('status and events show only exposeClaims', async ({ page, server }) => {
    await openApp(page, server);
    await page.evaluate(() => {
      (window as unknown as { __events: unknown[] }).__events = [];
      window.tokenBroker.onSessionChange((e) => (window as unknown as { __events: unknown[] }).__events.push(e.session.claims));
    });
    const claims = [(await login(page)).claims, (await status(page)).claims, (await page.evaluate(() => window.tokenBroker.refresh())).claims];
    await expect.poll(() => page.evaluate(() => (window as unknown as { __events: unknown[] }).__events.length)).toBe(2);
    claims.push(...(await page.evaluate(() => (window as unknown as { __events: Record<string, unknown>[] }).__events)));
    for (const c of claims) expect(Object.keys(c).sort()).toEqual(['role', 'sub']);
  });
  });

  test.describe('opt-in persist indexeddb', () => {
    test.use({ serverOptions: { workerConfig: { persist: 'indexeddb' } } });

  test('the documented limit: with persist indexeddb, page script can read the token from IndexedDB', async ({ context, page, server }) => {
    const issued = await captureIssuedTokens(context);
    await openApp(page, server);
    await login(page);
    expect(JSON.stringify(await readBrokerRecord(page))).toContain(issued[0]!);
  });
  });
});

test.describe('a server that serves dpop: true with the bearer-only script', () => {
  // Past configuredWorkerScript's own refusal of it, as a hand-written wrapper could.
  test.use({ serverOptions: { workerConfig: { dpop: true } }, serverParts: { configureWorker: uncheckedWorkerScript } });

test('the bearer-only script refuses dpop: true with a bad_config error naming dpop', async ({ context, page, server }) => {
  const reply = await messageWorkerUnderSecond(context, page, server, '/sw.js', { type: 'broker:status' });
  expect(reply).toEqual({ ok: false, error: { code: 'bad_config', message: 'bad_config dpop' } });
});

test('the development build says what to do about it', async ({ context, page, server }) => {
  const reply = await messageWorkerUnderSecond(context, page, server, '/sw.dev.js', { type: 'broker:status' });
  expect(reply).toMatchObject({ ok: false, error: { code: 'bad_config' } });
  expect(JSON.stringify(reply)).toContain('register sw-dpop.js');
});
});
