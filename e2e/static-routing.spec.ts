// Requests outside the API prefixes skip the worker when the browser has the
// Static Routing API; API calls and token endpoints still go through it.
import type { Page } from '@playwright/test';
import { apiFetch, expect, login, openApp, test } from './support/fixtures';

async function routing(page: Page, url: string) {
  return page.evaluate(async (u) => {
    await fetch(u, { cache: 'no-store' }).then((r) => r.text());
    const entry = performance.getEntriesByName(new URL(u, location.href).href).at(-1) as PerformanceResourceTiming & {
      workerMatchedSourceType?: string;
    };
    return { matched: entry.workerMatchedSourceType ?? null, workerStart: entry.workerStart };
  }, url);
}

test('static requests go straight to the network; API requests and endpoints reach the worker', async ({ page, server }) => {
  await openApp(page, server);
  await login(page);
  expect(await routing(page, '/demo.css?1')).toMatchObject({ matched: 'network' });
  expect(await routing(page, '/public/ping')).toMatchObject({ matched: 'network' });
  const api = await routing(page, '/api/me');
  expect(api.matched).not.toBe('network');
  expect(api.workerStart).toBeGreaterThan(0);
  expect((await apiFetch(page, '/api/me')).status).toBe(200);
  expect((await apiFetch(page, '/auth/refresh', { method: 'POST' })).status).toBe(403);
});

test.describe('a worker served with staticRouting: false', () => {
  test.use({ serverOptions: { workerConfig: { staticRouting: false } } });

  test('every in-scope request goes through the fetch event', async ({ page, server }) => {
    await openApp(page, server);
    const css = await routing(page, '/demo.css?2');
    expect(css.matched).not.toBe('network');
    expect(css.workerStart).toBeGreaterThan(0);
  });
});
