// The integration paths of the README, each as an app would use it, built by
// build.mjs into dist/examples/ and served by the reference server.
import { apiFetch, expect, login, test } from './support/fixtures';
import type { Page } from '@playwright/test';

async function openExample(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 15_000 });
}

const text = (page: Page, path: string) => page.evaluate((p) => fetch(p, { cache: 'no-store' }).then((r) => r.text()), path);

test.describe('an app with its own Workbox worker', () => {
  // The examples are bearer-token apps: DPoP optional on their server.
  test.use({ serverOptions: { publicDir: 'dist/examples/workbox', dpop: 'optional', dpopNonce: false } });

  test('precaching, its own route and the broker work together, offline included', async ({ context, page, server }) => {
    await openExample(page, server.url);
    expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(`${server.url}/example-sw.js`);
    await login(page);
    expect((await apiFetch(page, '/api/me')).body).toMatchObject({ sub: 'alice' });
    expect(await text(page, '/hello')).toBe('hello from the app worker');

    await context.setOffline(true);
    // Precached by Workbox at install: served from its cache with the network gone.
    expect(await text(page, '/app.js')).toContain('example-sw.js');
    expect(await text(page, '/index.html')).toContain('Workbox worker');
    const api = await page.evaluate(() => fetch('/api/me').then((r) => r.status, (e: Error) => e.name));
    expect(api).toBe('TypeError');
    await context.setOffline(false);
    expect((await apiFetch(page, '/api/me')).status).toBe(200);
  });
});

test.describe('a classic worker that imports the standalone script', () => {
  // The examples are bearer-token apps: DPoP optional on their server.
  test.use({ serverOptions: { publicDir: 'dist/examples/import-scripts', dpop: 'optional', dpopNonce: false } });

  test('the host worker keeps its own handler; the broker takes the config the host sets before importing it', async ({ page, server }) => {
    await openExample(page, server.url);
    expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(`${server.url}/classic-sw.js`);
    expect(await text(page, '/hello')).toBe('hello from the host worker');
    // The host's exposeClaims, not the server's default for /sw.js (which adds role).
    expect(Object.keys((await login(page)).claims).sort()).toEqual(['name', 'sub']);
    expect((await apiFetch(page, '/api/headers')).body).toMatchObject({ authorized: true, sub: 'alice' });
  });
});

test.describe('a Preact app with useSession()', () => {
  // The examples are bearer-token apps: DPoP optional on their server.
  test.use({ serverOptions: { publicDir: 'dist/examples/preact', dpop: 'optional', dpopNonce: false } });

  test('signs in through the UI, shows the user, and follows a sign-out in another tab', async ({ context, page, server }) => {
    await openExample(page, server.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByTestId('greeting')).toHaveText('Signed in as Alice Liddell');
    const other = await context.newPage();
    await openExample(other, server.url);
    await expect(other.getByTestId('greeting')).toContainText('Signed in as');
    await other.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
    await expect(other.getByRole('button', { name: 'Sign in' })).toBeVisible();
  });
});
