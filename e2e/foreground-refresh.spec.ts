// Foreground refresh: a tab that becomes visible again with its token within
// the refresh margin gets a new one before the app's first request, once for
// every tab that wakes, and page script posting `broker:resume` cannot turn it
// into a stream of refreshes.
import type { BrowserContext, Page } from '@playwright/test';
import { apiFetch, expect, login, openApp, test } from './support/fixtures';

// Refreshes from 2 s (4 s lifetime, 2 s margin); expires at 4 s.
const TTL = 4;
test.use({ serverOptions: { accessTokenTtl: TTL, workerConfig: { refreshBeforeExpiry: 2 } } });

/** Counts this test's refreshes and remembers the tokens they issued; `block` makes the endpoint unreachable. */
async function watchRefresh(context: BrowserContext) {
  const seen = { count: 0, tokens: [] as string[], block: false, status: 0 };
  await context.route('**/auth/refresh', async (route) => {
    seen.count++;
    if (seen.block) return route.abort('connectionrefused');
    if (seen.status) return route.fulfill({ status: seen.status, json: { error: 'busy' } });
    const response = await route.fetch();
    const text = await response.text();
    const token = (JSON.parse(text) as { access_token?: string }).access_token;
    if (token) seen.tokens.push(token);
    await route.fulfill({ response, body: text });
  });
  return seen;
}

/** The bearer tokens the API sees. */
async function watchApi(context: BrowserContext): Promise<string[]> {
  const bearers: string[] = [];
  await context.route('**/api/me', async (route) => {
    bearers.push((route.request().headers()['authorization'] ?? '').replace(/^(Bearer|DPoP) /, ''));
    await route.continue();
  });
  return bearers;
}

/** What the browser fires when the user comes back to a tab; the client listens to it. */
const wake = (page: Page) => page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));

/** Page script posting `broker:resume` itself, `n` times in a row, each waiting for the reply. */
function postResume(page: Page, n: number) {
  return page.evaluate(async (n) => {
    for (let i = 0; i < n; i++) {
      await new Promise((resolve) => {
        const channel = new MessageChannel();
        channel.port1.onmessage = resolve;
        navigator.serviceWorker.controller!.postMessage({ type: 'broker:resume' }, [channel.port2]);
      });
    }
  }, n);
}

async function threeTabs(context: BrowserContext, page: Page, server: Parameters<typeof openApp>[1]): Promise<Page[]> {
  await openApp(page, server);
  await login(page);
  const tabs = [page, await context.newPage(), await context.newPage()];
  for (const tab of tabs.slice(1)) await openApp(tab, server);
  return tabs;
}

test('three tabs waking together with the token in its margin: exactly one refresh, and the first API call carries the new token without one', async ({ context, page, server }) => {
  const tabs = await threeTabs(context, page, server);
  const refresh = await watchRefresh(context);
  const bearers = await watchApi(context);
  await page.waitForTimeout(2_300);
  await Promise.all(tabs.map(wake));
  // Nothing but the wake may ask: status and API calls would refresh a token in its margin themselves.
  await expect.poll(() => refresh.tokens.length, { intervals: [50] }).toBe(1);
  // More wakes once it is fresh change nothing.
  await Promise.all(tabs.map(wake));
  await Promise.all(tabs.map((t) => postResume(t, 1)));
  expect(refresh.count).toBe(1);
  // Had the first call needed a refresh, it would find the endpoint gone and go out with the old token.
  refresh.block = true;
  expect((await apiFetch(tabs[2]!, '/api/me')).status).toBe(200);
  expect(bearers).toEqual([refresh.tokens[0]]);
  expect(refresh.count).toBe(1);
});

test('a fresh token: waking refreshes nothing', async ({ context, page, server }) => {
  const tabs = await threeTabs(context, page, server);
  const refresh = await watchRefresh(context);
  await Promise.all(tabs.map(wake));
  await Promise.all(tabs.map((t) => postResume(t, 5)));
  expect(refresh.count).toBe(0);
});

test('signed out: waking refreshes nothing', async ({ context, page, server }) => {
  await openApp(page, server);
  const refresh = await watchRefresh(context);
  await wake(page);
  await postResume(page, 5);
  expect(refresh.count).toBe(0);
});

test('page script posting resume in a loop during an outage causes one refresh, not one per message', async ({ context, page, server }) => {
  await openApp(page, server);
  await login(page);
  const refresh = await watchRefresh(context);
  refresh.status = 503;
  await page.waitForTimeout(2_300);
  await postResume(page, 30);
  // The first resume's refresh makes its bounded retries on the 503s; the other 29 add none.
  const first = refresh.count;
  expect(first).toBeGreaterThanOrEqual(1);
  await postResume(page, 30);
  expect(refresh.count).toBe(first);
});

test('a resume whose refresh fails on the network leaves no cool-down: the next request refreshes at once', async ({ context, page, server }) => {
  // The page's online event can come before the worker's network is back; the first call after it must not be held off.
  await openApp(page, server);
  await login(page);
  const refresh = await watchRefresh(context);
  const bearers = await watchApi(context);
  await page.waitForTimeout(2_300);
  refresh.block = true;
  await postResume(page, 1);
  expect(refresh.count).toBe(1);
  refresh.block = false;
  expect((await apiFetch(page, '/api/me')).status).toBe(200);
  expect(refresh.count).toBe(2);
  expect(bearers).toEqual([refresh.tokens[0]]);
});

test('a loop of resume and a request during an outage: a resume ends a cool-down once, not every time', async ({ context, page, server }) => {
  await openApp(page, server);
  await login(page);
  const refresh = await watchRefresh(context);
  await page.waitForTimeout(2_300);
  refresh.block = true;
  for (let i = 0; i < 10; i++) {
    await postResume(page, 1);
    // Each request wants a refresh (its token is in the margin, later expired: then it fails as the network did).
    await page.evaluate(() => fetch('/api/me').catch(() => null));
  }
  // The resume's refresh, the first request's, and the one early try a resume let through; that try's
  // cool-down (at least 3 s) no resume ends. One more only if this loop outlasted it on a slow machine.
  expect(refresh.count).toBeGreaterThanOrEqual(3);
  expect(refresh.count).toBeLessThanOrEqual(4);
});
