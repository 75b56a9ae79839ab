// The demo as a first-time visitor sees it, and the errors the client gives
// when the worker cannot run.
import { expect, openApp, test } from './support/fixtures';

test('the signed-in demo shows the session, the actions with their explanations, and the timeline', async ({ page, server }, testInfo) => {
  await openApp(page, server);
  await page.click('#login-form button[type=submit]');
  await expect(page.locator('#session-state')).toHaveText('signed in as alice');
  await page.click('#call-me');
  await expect(page.locator('#api-result')).toContainText('"name": "Alice Liddell"');
  await expect(page.locator('#event-log li').first()).toContainText(/login.*Alice Liddell, token valid for \d+ s/);
  await expect(page.locator('#expires-in')).toContainText(/\d+ s/);
  for (const id of ['#claims', '#call-me', '#call-echo', '#force-refresh', '#logout', '#open-tab', '#event-log']) {
    await expect(page.locator(id), id).toBeVisible();
  }
  await expect(page.locator('.actions .hint')).toHaveCount(4);
  await expect(page.locator('#unsupported')).toBeHidden();
  await page.screenshot({ path: testInfo.outputPath('demo-signed-in.png'), fullPage: true });
});

test('the sign-in form cannot be sent before the broker is ready, so the password never goes into a URL', async ({ page, server }) => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  await page.route('**/demo.js', async (route) => {
    await held;
    await route.continue();
  });
  const requested: string[] = [];
  page.on('request', (r) => requested.push(r.url()));
  // A module script holds DOMContentLoaded back, so only wait for the document to arrive.
  await page.goto(`${server.url}/`, { waitUntil: 'commit' });
  await expect(page.locator('#login-form button[type=submit]')).toBeDisabled();
  await page.locator('#password').press('Enter');
  release();
  await expect(page.locator('#login-form button[type=submit]')).toBeEnabled();
  await page.click('#login-form button[type=submit]');
  await expect(page.locator('#session-state')).toHaveText('signed in as alice');
  expect(requested.filter((u) => u.includes('wonderland'))).toEqual([]);
  expect(page.url()).toBe(`${server.url}/`);
});

test.describe('when the browser blocks service workers', () => {
  test.use({ serviceWorkers: 'block' });

  test('the demo says so instead of hanging', async ({ page, server }) => {
    test.setTimeout(40_000);
    await page.goto(`${server.url}/`);
    await expect(page.locator('#unsupported')).toBeVisible({ timeout: 20_000 });
    await expect(page.locator('#unsupported')).toContainText('could not start');
    // Depending on how the browser blocks them: a failed registration, a timeout, or no API at all.
    await expect(page.locator('#unsupported')).toContainText(/registration_failed|timeout|unsupported/);
    await expect(page.locator('#unsupported')).toContainText('blocked');
    expect(await page.evaluate(() => document.body.dataset.ready)).toBe('error');
  });
});

test('a script URL that does not serve a worker gives registration_failed, naming the URL and what to check', async ({ context, page, server }) => {
  await context.route('**/outside/', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>outside</title>' }));
  await context.route('**/client.js', (route) => route.fulfill({ path: 'dist/client/index.js', contentType: 'text/javascript' }));
  await page.goto(`${server.url}/outside/`);
  const error = await page.evaluate(async () => {
    const client = (await import('/client.js' as string)) as { registerTokenBroker: (o: object) => Promise<unknown> };
    return client.registerTokenBroker({ scriptURL: '/missing-sw.js', timeoutMs: 5_000 }).then(
      () => null,
      (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
    );
  });
  expect(error?.code).toBe('registration_failed');
  expect(error?.message).toContain('/missing-sw.js');
  expect(error?.message).toContain('Check that the URL serves the script');
});

test('a worker URL whose scope cannot cover the page (a bundler asset URL) gives bad_scope at once, and registers nothing', async ({ context, page, server }) => {
  await context.route('**/client.js', (route) => route.fulfill({ path: 'dist/client/index.js', contentType: 'text/javascript' }));
  await page.goto(`${server.url}/public/ping`);
  const error = await page.evaluate(async () => {
    const client = (await import('/client.js' as string)) as { registerTokenBroker: (o: object) => Promise<unknown> };
    return client.registerTokenBroker({ scriptURL: '/node_modules/token-broker/public/sw.js' }).then(
      () => null,
      (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
    );
  });
  expect(error?.code).toBe('bad_scope');
  expect(error?.message).toContain('/node_modules/token-broker/public/');
  expect(error?.message).toContain('copy the file');
  expect(await page.evaluate(() => navigator.serviceWorker.getRegistrations().then((r) => r.length))).toBe(0);
});
