// Attack (review of issue 24): while a backing is down the token endpoints
// answer 503 unavailable, "change nothing and clear no cookie", and the README
// says the worker "tries again after its cool-down". A logout is the exception:
// the worker ends the local session, posts the logout once and never again, so
// a sign-out made during a Redis blip leaves the refresh family live on the
// server and its cookie in the browser. With bearer tokens whoever uses the
// browser next (or any page script, from an uncontrolled frame) refreshes it.
// The 503 here is the server's own answer of a failed backing (server/core/backing.ts), given once.
import { expect, login, openApp, test } from './support/fixtures';

test.use({ serverOptions: { dpop: 'optional', dpopNonce: false, workerConfig: { dpop: false } } });

test('a logout answered 503 unavailable (the backing down for a moment) still ends the family at the server once it is back', async ({ context, page, server }) => {
  await openApp(page, server);
  await login(page);
  let refused = 0;
  await context.route('**/auth/logout', async (route) => {
    if (refused++ > 0) return route.fallback();
    await route.fulfill({ status: 503, headers: { 'retry-after': '2', 'cache-control': 'no-store' }, contentType: 'application/json', body: JSON.stringify({ error: 'unavailable', message: 'The refresh store is unavailable; nothing was changed. Retry in 2 s' }) });
  });
  expect(await page.evaluate(() => window.tokenBroker.logout())).toMatchObject({ authenticated: false });
  // Well past the Retry-After and the worker's first cool-down.
  await page.waitForTimeout(5_000);
  const cookies = (await context.cookies(`${server.url}/auth/refresh`)).filter((c) => c.name.endsWith('broker_rt'));
  // revokeUser answers how many live families it ended: none should be left.
  expect({ cookies: cookies.length, liveFamilies: await server.broker.revokeUser('alice') }).toEqual({ cookies: 0, liveFamilies: 0 });
});
