// Attack (review of issue 24): the renewal check compares a renewed token with
// the token its request was sent with (`used`), never with the session the
// worker holds when the answer arrives. An API answer that was on its way when
// the user signed out (a slow route, or a malicious one that holds its answer)
// carries a renewal of the session that just ended: the worker stores it, and
// the signed-out user is signed in again (in every tab, "refresh") until the
// token expires; after a logout and a login as someone else, the late answer
// switches the session back to the previous account. The README promises that
// an API route cannot switch the session and that logout ends it.
import type { BrowserContext, Page } from '@playwright/test';
import { apiFetch, expect, login, openApp, status, test } from './support/fixtures';

const TTL = 8;
// Two sign-ins with a memory-hard password check on two shared cores.
test.describe.configure({ timeout: 60_000 });
test.use({
  serverOptions: { dpop: 'optional', dpopNonce: false, accessTokenTtl: TTL, renewHeader: 'x-renewed-token', workerConfig: { dpop: false, renewHeader: 'x-renewed-token', refreshBeforeExpiry: 1 } },
});

/**
 * Sends `/api/slow` (the worker adds alice's token): the server answers it at
 * once, with a renewal since the token is past half its life; the answer is
 * held until `release` is called, as a slow route's would be.
 */
async function slowRequestWithRenewal(context: BrowserContext, page: Page): Promise<{ release: () => void; done: Promise<void> }> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = releaseHeld = r));
  let renewed = false;
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => (answer = resolve));
  // Registered before the request is made: a request that raced past the route would never be held.
  await context.route('**/api/slow', async (route) => {
    const response = await route.fetch({ url: route.request().url().replace('/api/slow', '/api/me') });
    renewed = !!response.headers()['x-renewed-token'];
    answer();
    await held;
    await route.fulfill({ response });
  });
  const done = page.evaluate(() => fetch('/api/slow').then(() => undefined));
  await answered;
  // The control: the server did renew the live session.
  expect(renewed).toBe(true);
  return { release, done };
}

// A held answer must never outlive its test: released (and every route dropped) however the test ends,
// or Playwright's teardown waits on the request for ever.
let releaseHeld: (() => void) | undefined;
test.afterEach(async ({ context }) => {
  releaseHeld?.();
  releaseHeld = undefined;
  await context.unrouteAll({ behavior: 'ignoreErrors' });
});

test('an API answer with a renewal that arrives after logout does not sign the user in again', async ({ context, page, server }) => {
  await openApp(page, server);
  await login(page);
  await page.waitForTimeout((TTL / 2) * 1000 + 300);
  const slow = await slowRequestWithRenewal(context, page);
  await page.evaluate(() => window.tokenBroker.logout());
  expect(await status(page)).toMatchObject({ authenticated: false });
  slow.release();
  await slow.done;
  expect({ session: await status(page), api: (await apiFetch(page, '/api/me')).status }).toMatchObject({ session: { authenticated: false }, api: 401 });
});

test("an API answer with a renewal of alice's session that arrives after a sign-in as bob does not switch back to alice", async ({ context, page, server }) => {
  await openApp(page, server);
  await login(page);
  await page.waitForTimeout((TTL / 2) * 1000 + 300);
  const slow = await slowRequestWithRenewal(context, page);
  await page.evaluate(() => window.tokenBroker.logout());
  expect((await login(page, 'bob', 'builder')).claims).toMatchObject({ sub: 'bob' });
  slow.release();
  await slow.done;
  const me = (await apiFetch(page, '/api/me')).body as { sub?: string };
  expect({ session: (await status(page)).claims.sub, api: me.sub }).toEqual({ session: 'bob', api: 'bob' });
});
