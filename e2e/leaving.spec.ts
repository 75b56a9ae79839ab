// Leaving cleanly: an app that drops the broker, from one page with
// `broker.unregister()`, or from every user's browser with the kill switch
// served at the worker's URL.
import type { Page } from '@playwright/test';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, login, openApp, stopWorkers, test } from './support/fixtures';

const databases = (page: Page) => page.evaluate(() => indexedDB.databases().then((dbs) => dbs.map((d) => d.name)));
const registrations = (page: Page) => page.evaluate(() => navigator.serviceWorker.getRegistrations().then((r) => r.length));

test('broker.unregister() signs out on the server, removes the registration and deletes the worker\'s database', async ({ context, page, server }) => {
  await openApp(page, server);
  await login(page);
  expect(await databases(page)).toContain('token-broker');
  expect(await page.evaluate(() => window.tokenBroker.unregister())).toBe(true);
  expect(server.stats.logoutRevoked).toBe(1);
  expect(await registrations(page)).toBe(0);
  // The database goes once the worker, which holds it open while it controls this page, has stopped.
  await stopWorkers(context, page);
  await expect.poll(() => databases(page)).not.toContain('token-broker');
  expect((await context.cookies(`${server.url}/auth/refresh`)).filter((c) => c.name.endsWith('broker_rt'))).toEqual([]);
});

test.describe('the kill switch served at the worker URL', () => {
  const site = mkdtempSync(join(tmpdir(), 'broker-site-'));
  cpSync('public', site, { recursive: true });
  test.use({ serverOptions: { publicDir: site } });

  test('removes the broker from a signed-in browser: session revoked, database deleted, worker gone, pages reloaded without it', async ({
    context,
    page,
    server,
  }) => {
    cpSync('public/sw-dpop.js', join(site, 'sw-dpop.js'));
    await openApp(page, server);
    await login(page);
    // The next deployment: the kill switch at the worker's URL, and pages that no longer register a worker.
    writeFileSync(join(site, 'sw-dpop.js'), readFileSync('public/sw-remove.js', 'utf8'));
    await context.route(`${server.url}/`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>after</title><p>no broker</p>' }));
    const reloaded = page.waitForEvent('load');
    await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r!.update()));
    await reloaded;
    await expect(page.locator('p')).toHaveText('no broker');
    expect(server.stats.logoutRevoked).toBe(1);
    await expect.poll(() => registrations(page)).toBe(0);
    await expect.poll(() => databases(page)).not.toContain('token-broker');
    expect(await page.evaluate(() => navigator.serviceWorker.controller)).toBeNull();
    expect((await context.cookies(`${server.url}/auth/refresh`)).filter((c) => c.name.endsWith('broker_rt'))).toEqual([]);
  });
});
