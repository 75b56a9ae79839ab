// Found by an attack review of issue 24: while a backing is down the token endpoints
// answer 503 unavailable, "change nothing and clear no cookie". A logout was posted
// once and never again, so a sign-out made during a Redis blip left the refresh
// family live on the server and its cookie in the browser: with bearer tokens
// whoever used the browser next (or any page script, from an uncontrolled frame)
// refreshed it. The worker now signs out locally at once and tries the logout again
// after its cool-down; a login meanwhile cancels it (the cookie is then the new
// session's), and a worker stop does not lose it.
// The 503 here is the server's own answer of a failed backing (server/core/backing.ts).
import type { BrowserContext } from '@playwright/test';
import { apiFetch, expect, login, openApp, status, stopWorkers, test } from './support/fixtures';

// Two sign-ins with a memory-hard password check on two shared cores.
test.describe.configure({ timeout: 60_000 });
test.use({ serverOptions: { dpop: 'optional', dpopNonce: false, workerConfig: { dpop: false } } });

const UNAVAILABLE = {
  status: 503,
  headers: { 'retry-after': '1', 'cache-control': 'no-store' },
  contentType: 'application/json',
  body: JSON.stringify({ error: 'unavailable', message: 'The refresh store is unavailable; nothing was changed. Retry in 1 s' }),
};

/** Answers the logout 503 while `down()` says so; counts the logouts that reach the server. */
async function logoutOutage(context: BrowserContext, down: () => boolean): Promise<{ passed: () => number }> {
  let passed = 0;
  await context.route('**/auth/logout', async (route) => {
    if (down()) return route.fulfill(UNAVAILABLE);
    passed++;
    return route.fallback();
  });
  return { passed: () => passed };
}

async function refreshCookies(context: BrowserContext, url: string): Promise<unknown[]> {
  return (await context.cookies(`${url}/auth/refresh`)).filter((c) => c.name.endsWith('broker_rt'));
}

test.afterEach(({ context }) => context.unrouteAll({ behavior: 'ignoreErrors' }));

test('a logout answered 503 unavailable (the backing down for a moment) still ends the family at the server once it is back', async ({ context, page, server }) => {
  await openApp(page, server);
  await login(page);
  let refused = 0;
  await logoutOutage(context, () => refused++ === 0);
  expect(await page.evaluate(() => window.tokenBroker.logout())).toMatchObject({ authenticated: false });
  // Well past the Retry-After and the worker's first cool-down (at most 3 s).
  await page.waitForTimeout(5_000);
  const cookies = await refreshCookies(context, server.url);
  // revokeUser answers how many live families it ended: none should be left.
  expect({ cookies: cookies.length, liveFamilies: await server.broker.revokeUser('alice') }).toEqual({ cookies: 0, liveFamilies: 0 });
});

test('a logout still waiting for its retry is kept across a worker stop and sent by the next start', async ({ context, page, server }) => {
  await openApp(page, server);
  await login(page);
  let down = true;
  const outage = await logoutOutage(context, () => down);
  await page.evaluate(() => window.tokenBroker.logout());
  // Stopped before its cool-down ends: the timer is gone with it.
  await stopWorkers(context, page);
  down = false;
  await page.waitForTimeout(4_000);
  expect(outage.passed()).toBe(0);
  // Anything that starts the worker again (here the page's status call) sends the logout.
  expect(await status(page)).toMatchObject({ authenticated: false });
  // The server's answer clears the cookie: only then has it revoked the family.
  await expect.poll(async () => (await refreshCookies(context, server.url)).length).toBe(0);
  expect({ logouts: outage.passed(), liveFamilies: await server.broker.revokeUser('alice') }).toEqual({ logouts: 1, liveFamilies: 0 });
});

test("a login while a logout waits for its retry cancels it: the retry does not revoke the new session's family", async ({ context, page, server }) => {
  await openApp(page, server);
  await login(page);
  let down = true;
  const outage = await logoutOutage(context, () => down);
  await page.evaluate(() => window.tokenBroker.logout());
  expect((await login(page, 'bob', 'builder')).claims).toMatchObject({ sub: 'bob' });
  down = false;
  // Past the cool-downs a retry would have waited.
  await page.waitForTimeout(5_000);
  expect(outage.passed()).toBe(0);
  // Bob's family is live: a refresh with the browser's cookie works and the API answers bob.
  expect((await page.evaluate(() => window.tokenBroker.refresh())).claims).toMatchObject({ sub: 'bob' });
  expect(((await apiFetch(page, '/api/me')).body as { sub?: string }).sub).toBe('bob');
});

// The redirect sign-in's marker has the worker ask the server past its signed-out marker. Anyone can
// put it on a URL of the app (a link from another site, the next user of a shared machine): while
// the logout waits for its retry the cookie is still the live family the user signed out of.
test('a forged ?broker_signin while a logout waits for its retry refreshes nothing, and the retry still revokes the family', async ({ context, page, server }) => {
  await openApp(page, server);
  await login(page);
  let down = true;
  const outage = await logoutOutage(context, () => down);
  let refreshes = 0;
  await context.route('**/auth/refresh', (route) => {
    refreshes++;
    return route.fallback();
  });
  expect(await page.evaluate(() => window.tokenBroker.logout())).toMatchObject({ authenticated: false });
  await openApp(page, server, '/?broker_signin=1');
  expect(await status(page)).toMatchObject({ authenticated: false });
  expect(refreshes).toBe(0);
  down = false;
  // The retry's answer clears the cookie: only then has the server revoked the family.
  await expect.poll(async () => (await refreshCookies(context, server.url)).length, { timeout: 20_000 }).toBe(0);
  expect({ refreshes, logouts: outage.passed(), liveFamilies: await server.broker.revokeUser('alice') }).toEqual({ refreshes: 0, logouts: 1, liveFamilies: 0 });
});
