// The broker's core scenarios in an engine other than Chromium: the demo in
// the reference setup (sw-dpop.js, DPoP required, nonces on) with the
// server's default cookie, each test with its own browser and server.
import { expect, test } from '@playwright/test';
import { startServer, type ServerParts } from '../../reference-server/app';
import type { Fault } from '../../reference-server/faults';
import { DEFAULT_SETTINGS } from '../../reference-server/settings';
import { waitFor, type Engine } from './engine';

type Server = Awaited<ReturnType<typeof startServer>>;
type Overrides = NonNullable<Parameters<typeof startServer>[0]>;

export interface EngineUnderTest {
  start(): Promise<Engine>;
  /** How long to stay away from the origin for the browser to stop its idle worker (measured per engine). */
  idleStopMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function scenarios({ start, idleStopMs }: EngineUnderTest): void {
  let browser: Engine;
  const servers: Server[] = [];
  test.beforeEach(async () => {
    browser = await start();
  });
  test.afterEach(async () => {
    await browser.close();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function serve(overrides: Overrides = {}, parts: ServerParts = {}): Promise<Server> {
    const workerConfig = { ...DEFAULT_SETTINGS.workerConfig, ...overrides.workerConfig };
    const server = await startServer({ databasePath: ':memory:', publicDir: 'public', ...overrides, workerConfig }, parts);
    servers.push(server);
    return server;
  }

  /** Opens the demo and waits until the broker controls the page. */
  async function openApp(server: Server): Promise<void> {
    await browser.goto(`${server.url}/`);
    await waitFor(browser, `return document.body.dataset.ready === 'true';`);
  }

  const login = () => browser.run<{ authenticated: boolean }>(`return window.tokenBroker.login({ username: 'alice', password: 'wonderland' });`);
  const api = (path: string) => browser.run<{ status: number; body: string }>(`const r = await fetch(args[0]); return { status: r.status, body: await r.text() };`, path);

  test('the first load is controlled by the broker', async () => {
    const server = await serve();
    await openApp(server);
    expect(await browser.run<string>('return navigator.serviceWorker.controller.scriptURL;')).toBe(`${server.url}/sw-dpop.js`);
  });

  test('login, then API calls carry the token with a DPoP proof', async () => {
    const server = await serve();
    await openApp(server);
    expect((await login()).authenticated).toBe(true);
    const me = await api('/api/me');
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ sub: 'alice' });
    // The reference setup requires DPoP: a token sent without a proof would have been refused.
    expect(server.stats.apiUnauthorized).toBe(0);
    const key = await browser.run<{ type: string; extractable: boolean; algorithm: string }>(`
      const db = await new Promise((resolve, reject) => { const r = indexedDB.open('token-broker'); r.onsuccess = () => resolve(r.result); r.onerror = reject; });
      const pair = await new Promise((resolve) => { const g = db.transaction('records').objectStore('records').get('dpop-key'); g.onsuccess = () => resolve(g.result); });
      db.close();
      return { type: pair.privateKey.type, extractable: pair.privateKey.extractable, algorithm: pair.privateKey.algorithm.name };`);
    expect(key).toEqual({ type: 'private', extractable: false, algorithm: 'ECDSA' });
  });

  test.describe('with 3 s access tokens', () => {
    test('an expired token is refreshed with the default cookie, once for 50 concurrent requests', async () => {
      const server = await serve({ accessTokenTtl: 3, workerConfig: { refreshBeforeExpiry: 1 } });
      await openApp(server);
      await login();
      expect((await api('/api/me')).status).toBe(200);
      const before = { ...server.stats };
      await sleep(2_500);
      const statuses = await browser.run<number[]>(`return Promise.all(Array.from({ length: 50 }, () => fetch('/api/me').then((r) => r.status)));`);
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(server.stats.refresh - before.refresh).toBe(1);
      expect(server.stats.refreshRejected - before.refreshRejected).toBe(0);
      expect(server.stats.apiUnauthorized - before.apiUnauthorized).toBe(0);
    });
  });

  test('a sign-out in one tab reaches the other', async () => {
    const server = await serve();
    await openApp(server);
    await login();
    const first = await browser.currentTab();
    const second = await browser.newTab();
    await openApp(server);
    expect((await browser.run<{ authenticated: boolean }>('return window.tokenBroker.status();')).authenticated).toBe(true);
    await browser.run(`window.__events = []; window.tokenBroker.onSessionChange((e) => window.__events.push(e.reason));`);
    await browser.switchTo(first);
    await browser.run('await window.tokenBroker.logout();');
    await browser.switchTo(second);
    await waitFor(browser, `return window.__events.includes('logout');`, 5_000);
    expect((await api('/api/me')).status).toBe(401);
  });

  test('nothing page script can read holds a token: not the session, its events, responses, cookies or storage (persist memory)', async () => {
    const server = await serve({ workerConfig: { persist: 'memory' } });
    await openApp(server);
    await browser.run(`window.__seen = []; window.tokenBroker.onSessionChange((e) => window.__seen.push(e));`);
    await login();
    const readable = await browser.run<string>(`
      const responses = [];
      for (const path of ['/api/me', '/api/time']) {
        const r = await fetch(path);
        responses.push({ headers: [...r.headers], body: await r.text() });
      }
      const record = await new Promise((resolve) => {
        const open = indexedDB.open('token-broker');
        open.onsuccess = () => {
          const get = open.result.transaction('records', 'readonly').objectStore('records').get('session');
          get.onsuccess = () => { resolve(get.result ?? null); open.result.close(); };
          get.onerror = () => resolve(null);
        };
        open.onerror = () => resolve(null);
      });
      return JSON.stringify({
        status: await window.tokenBroker.status(),
        events: window.__seen,
        responses,
        cookie: document.cookie,
        local: { ...localStorage },
        session: { ...sessionStorage },
        record,
      });`);
    expect(readable).toContain('alice');
    // Access tokens and DPoP proofs are JWTs: none of them may be readable.
    expect(readable).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
    expect(readable).not.toContain('broker_rt');
    expect(server.stats.login).toBe(1);
  });

  test('a page\'s own call to a token endpoint is refused by the worker, and an API redirect is not followed with the token', async () => {
    // The server's request log shows what reached it.
    const requests: string[] = [];
    const server = await serve({ logLevel: 'info' }, { logStream: { write: (line) => void requests.push(line) } });
    await openApp(server);
    await login();
    const before = server.stats.refresh;
    const reserved = await browser.run<{ status: number; body: { error: { code: string } } }>(
      `const r = await fetch('/auth/refresh', { method: 'POST', headers: { 'x-token-broker': '1' }, body: '{}' }); return { status: r.status, body: await r.json() };`,
    );
    expect(reserved).toMatchObject({ status: 403, body: { error: { code: 'endpoint_reserved' } } });
    expect(server.stats.refresh).toBe(before);
    for (const path of ['/api/redirect?to=/apix/ping', '/api/redirect?to=/public/ping']) {
      const res = await api(path);
      expect(res.status, path).toBe(502);
      expect(JSON.parse(res.body), path).toMatchObject({ error: { code: 'redirect_refused' } });
    }
    const urls = requests.map((line) => (JSON.parse(line) as { req?: { url?: string } }).req?.url).filter(Boolean);
    expect(urls).toContain('/api/redirect?to=/apix/ping');
    // The redirect targets were never requested: no token, no proof went there.
    expect(urls.filter((u) => /^\/(apix|public)\/ping/.test(u!))).toEqual([]);
  });

  // No request interception outside Chromium's Playwright: the server answers the faults itself (reference-server/faults.ts).
  test('a 401 on a token the worker trusts: one refresh, the request replayed with its body, the page sees 200', async () => {
    const faults: Fault[] = [{ path: '/api/echo', times: 1, answer: { status: 401, body: { error: 'invalid_token' } } }];
    const server = await serve({}, { faults });
    await openApp(server);
    await login();
    const before = server.stats.refresh;
    const res = await browser.run<{ status: number; body: string }>(
      `const r = await fetch('/api/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 1, b: [true, null] }) });
      return { status: r.status, body: await r.text() };`,
    );
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ sub: 'alice', body: { a: 1, b: [true, null] } });
    expect(faults[0]!.hits).toBe(1);
    expect(server.stats.refresh - before).toBe(1);
  });

  for (const [name, answer] of [
    ['answers 503', { status: 503, headers: { 'retry-after': '0' }, body: { error: 'busy' } }],
    ['answers 429 with Retry-After', { status: 429, headers: { 'retry-after': '0' }, body: { error: 'slow_down' } }],
    ['drops the connection', 'drop'],
  ] as const) {
    test(`the refresh endpoint ${name} when a 401 needs a refresh: the page gets ${answer === 'drop' ? 'a network error' : '503 unavailable'}, the session is kept, then recovers`, async () => {
      const refreshDown: Fault = { path: '/auth/refresh', times: 1_000, answer };
      const faults: Fault[] = [{ path: '/api/me', times: 1, answer: { status: 401, body: { error: 'invalid_token' } } }, refreshDown];
      const server = await serve({}, { faults });
      await openApp(server);
      await login();
      if (answer === 'drop') {
        // No answer at all reads as a network failure, as offline does: the page's fetch rejects.
        const failure = await browser.run<string>(`return fetch('/api/me').then((r) => 'status ' + r.status, (e) => e.name);`);
        expect(failure).toBe('TypeError');
      } else {
        const res = await api('/api/me');
        expect(res.status).toBe(503);
        expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'unavailable' } });
      }
      expect(refreshDown.hits).toBeGreaterThan(0);
      expect((await browser.run<{ authenticated: boolean }>('return window.tokenBroker.status();')).authenticated).toBe(true);
      refreshDown.times = 0;
      expect((await api('/api/me')).status).toBe(200);
    });
  }

  test('offline, then online: API calls fail as network errors, no sign-out, and they work again once the server is back', async () => {
    // No way to take these browsers offline from the test: the server dropping every connection is what the worker sees then.
    const offline: Fault = { path: '*', times: 0, answer: 'drop' };
    const server = await serve({ accessTokenTtl: 3, workerConfig: { refreshBeforeExpiry: 1 } }, { faults: [offline] });
    await openApp(server);
    await login();
    offline.times = 1_000;
    await sleep(2_500);
    // The token is due: the refresh cannot reach the server either.
    expect(await browser.run<string>(`return fetch('/api/me').then((r) => 'status ' + r.status, (e) => e.name);`)).toBe('TypeError');
    expect(offline.hits).toBeGreaterThan(0);
    expect((await browser.run<{ authenticated: boolean }>('return window.tokenBroker.status();')).authenticated).toBe(true);
    offline.times = 0;
    await waitFor(browser, `return fetch('/api/me').then((r) => r.status === 200, () => false);`);
    expect((await browser.run<{ authenticated: boolean }>('return window.tokenBroker.status();')).authenticated).toBe(true);
    expect(server.stats.refresh).toBeGreaterThanOrEqual(1);
  });

  // A browser stops a worker that no page uses after a while: leaving the origin long
  // enough lets it. In memory mode the restarted worker has no token and needs one
  // refresh, which shows it did restart; by default it reads IndexedDB and needs none.
  for (const persist of ['indexeddb', 'memory'] as const) {
    test(`a worker the browser stopped while no page used it starts again (persist ${persist}): ${persist === 'memory' ? 'one refresh' : 'no refresh'}`, async () => {
      const server = await serve({ workerConfig: { persist } });
      await openApp(server);
      await login();
      expect((await api('/api/me')).status).toBe(200);
      const before = server.stats.refresh;
      await browser.goto('about:blank');
      await sleep(idleStopMs);
      await openApp(server);
      expect((await api('/api/me')).status).toBe(200);
      expect(server.stats.refresh - before).toBe(persist === 'memory' ? 1 : 0);
    });
  }
}
