// Shared e2e fixtures: a reference server per test (its own in-memory store and
// counters, on a free loopback port) and helpers to drive the demo page.
import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';
import { startServer, type ServerParts } from '../../reference-server/app';
import { DEFAULT_SETTINGS } from '../../reference-server/settings';
import type { Session } from '../../sw/protocol';

export type RunningServer = Awaited<ReturnType<typeof startServer>>;
type ServerOverrides = NonNullable<Parameters<typeof startServer>[0]>;

export const test = base.extend<{ serverOptions: ServerOverrides; serverParts: ServerParts; server: RunningServer }>({
  serverOptions: [{}, { option: true }],
  serverParts: [{}, { option: true }],
  server: async ({ serverOptions, serverParts }, use) => {
    // A test's workerConfig adds to the reference one (which exposes the demo's claims).
    const workerConfig = { ...DEFAULT_SETTINGS.workerConfig, ...serverOptions.workerConfig };
    const server = await startServer({ databasePath: ':memory:', publicDir: 'public', ...serverOptions, workerConfig }, serverParts);
    await use(server);
    await server.close();
  },
});
export { expect };

/** Opens the demo at `server` (at `path`, `/` by default) and waits until it is controlled. */
export async function openApp(page: Page, server: Pick<RunningServer, 'url'>, path = '/'): Promise<void> {
  await page.goto(`${server.url}${path}`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 15_000 });
  expect(await page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
}

export function login(page: Page, username = 'alice', password = 'wonderland'): Promise<Session> {
  return page.evaluate(([u, p]) => window.tokenBroker.login({ username: u, password: p }), [username, password] as const);
}

export function status(page: Page): Promise<Session> {
  return page.evaluate(() => window.tokenBroker.status());
}

/**
 * As page script could: registers `script` under /second/ (a path the demo
 * does not own), waits until it controls that page, and posts one broker
 * message to it; resolves the reply.
 */
export async function messageWorkerUnderSecond(context: BrowserContext, page: Page, server: Pick<RunningServer, 'url'>, script: string, message: object): Promise<unknown> {
  await context.route('**/second/', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>second</title>' }));
  await page.goto(`${server.url}/second/`);
  return page.evaluate(
    async ([url, msg]) => {
      const controlled = new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
      await navigator.serviceWorker.register(url, { scope: '/second/' });
      await controlled;
      const channel = new MessageChannel();
      const answer = new Promise((r) => (channel.port1.onmessage = (e) => r(e.data)));
      navigator.serviceWorker.controller!.postMessage(msg, [channel.port2]);
      return answer;
    },
    [script, message] as const,
  );
}

/** Posts one broker message to the page's controlling worker, as page script can; resolves the worker's reply. */
export function messageWorker(page: Page, msg: object): Promise<Record<string, unknown>> {
  return page.evaluate((m) => {
    const channel = new MessageChannel();
    const answer = new Promise<Record<string, unknown>>((r) => (channel.port1.onmessage = (e) => r(e.data as Record<string, unknown>)));
    navigator.serviceWorker.controller!.postMessage(m, [channel.port2]);
    return answer;
  }, msg);
}

/** Calls the API from page script and returns what the page sees. */
export function apiFetch(
  page: Page,
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown; headers: Record<string, string> }> {
  return page.evaluate(
    async ([p, i]) => {
      const res = await fetch(p, i);
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body, headers: Object.fromEntries(res.headers.entries()) };
    },
    [path, init] as const,
  );
}

/** Stops every service worker the way the browser does when idle. */
export async function stopWorkers(context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await cdp.detach();
}

/** Records the access tokens the worker receives, as seen on the wire (context.route sees worker requests). */
export async function captureIssuedTokens(context: BrowserContext): Promise<string[]> {
  const tokens: string[] = [];
  await context.route(/\/auth\/(login|refresh)$/, async (route) => {
    const response = await route.fetch();
    const text = await response.text();
    try {
      const t = (JSON.parse(text) as { access_token?: string }).access_token;
      if (t) tokens.push(t);
    } catch {
      // error bodies carry no token
    }
    await route.fulfill({ response, body: text });
  });
  return tokens;
}

/**
 * What page script can read of one of the worker's IndexedDB records (the same
 * origin shares IndexedDB): the session by default, or the DPoP key pair.
 * CryptoKeys cannot leave the page, so they come back described.
 */
export function readBrokerRecord(page: Page, key: 'session' | 'dpop-key' = 'session'): Promise<unknown> {
  return page.evaluate(
    (key) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('token-broker');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('records')) return resolve(null);
          const get = db.transaction('records').objectStore('records').get(key);
          get.onsuccess = () =>
            resolve(JSON.parse(JSON.stringify(get.result ?? null, (_, v: unknown) => (v instanceof CryptoKey ? { cryptoKey: v.type, extractable: v.extractable } : v))));
          get.onerror = () => reject(get.error);
        };
      }),
    key,
  );
}

/** Every record of the worker's IndexedDB store, by key, as page script can read them (CryptoKeys described). */
export function readAllBrokerRecords(page: Page): Promise<Record<string, unknown>> {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('token-broker');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('records')) return resolve({});
          const store = db.transaction('records').objectStore('records');
          const keys = store.getAllKeys();
          const values = store.getAll();
          values.onsuccess = () => {
            const all = Object.fromEntries(keys.result.map((k, i) => [String(k), values.result[i] as unknown]));
            resolve(JSON.parse(JSON.stringify(all, (_, v: unknown) => (v instanceof CryptoKey ? { cryptoKey: v.type, extractable: v.extractable } : v))));
          };
          values.onerror = () => reject(values.error);
        };
      }),
  );
}

/** Deletes the worker's persisted record from page script, as an app clearing site data would. */
export function deleteBrokerRecord(page: Page): Promise<void> {
  return page.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('token-broker');
        open.onsuccess = () => {
          const tx = open.result.transaction('records', 'readwrite');
          tx.objectStore('records').delete('session');
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(tx.error);
        };
      }),
  );
}

/** Starts recording the session events a page receives; read them with `sessionEvents`. */
export async function recordSessionEvents(page: Page): Promise<void> {
  await page.evaluate(() => {
    const events: string[] = [];
    (window as unknown as { __sessionEvents: string[] }).__sessionEvents = events;
    window.tokenBroker.onSessionChange((e) => events.push(e.reason));
  });
}

export function sessionEvents(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __sessionEvents: string[] }).__sessionEvents);
}

/**
 * Closes every page of the context and, once the browser has let go of them, stops the workers as it stops
 * idle ones: the next load then activates a version that waited behind those pages. Returns a blank page
 * (no worker controls it) to load the app in.
 */
export async function closePagesForUpdate(context: BrowserContext): Promise<Page> {
  const blank = await context.newPage();
  const cdp = await context.newCDPSession(blank);
  const versions = new Map<string, { runningStatus: string; controlledClients?: string[] }>();
  cdp.on('ServiceWorker.workerVersionUpdated', (event: { versions: { versionId: string; runningStatus: string; controlledClients?: string[] }[] }) => {
    for (const v of event.versions) versions.set(v.versionId, v);
  });
  await cdp.send('ServiceWorker.enable');
  for (const p of context.pages()) if (p !== blank) await p.close();
  await expect.poll(() => [...versions.values()].every((v) => !v.controlledClients?.length)).toBe(true);
  // On a loaded machine this command sometimes never answers although the workers stop: watch them instead.
  cdp.send('ServiceWorker.stopAllWorkers').catch(() => undefined);
  await expect.poll(() => [...versions.values()].every((v) => v.runningStatus === 'stopped'), { timeout: 20_000 }).toBe(true);
  await cdp.detach().catch(() => undefined);
  return blank;
}
