// RFC 9470 step-up in Chromium: a route that needs a recent sign-in refuses an
// old one with the challenge; the worker does not refresh on it (a refresh keeps
// the sign-in's auth_time, so it would loop), the page learns the requirement,
// and a fresh login() makes the retried call pass.
import type * as ClientModuleNs from '../client/index';
import { apiFetch, expect, login, openApp, test } from './support/fixtures';

type ClientModule = typeof ClientModuleNs;

const clock = { ms: Date.now() };
test.use({ serverParts: { now: () => clock.ms } });

test('an old sign-in gets the challenge and a typed requirement, with no refresh; a new login passes', async ({ context, page, server }) => {
  clock.ms = Date.now();
  await context.route('**/client.js', (route) => route.fulfill({ path: 'dist/client/index.js', contentType: 'text/javascript' }));
  await openApp(page, server);
  await login(page);
  const first = await apiFetch(page, '/api/sensitive', { method: 'POST' });
  expect(first.status, JSON.stringify(first)).toBe(200);

  // Ten minutes on by the server's clock: the sign-in is older than the route's 5 minutes.
  clock.ms += 600_000;
  // An ordinary route still works (the worker may refresh its expired token for it: that keeps auth_time).
  expect((await apiFetch(page, '/api/me')).status).toBe(200);

  let refreshes = 0;
  await context.route('**/auth/refresh', async (route) => {
    refreshes += 1;
    await route.continue();
  });
  const refused = await page.evaluate(async () => {
    const client = (await import('/client.js' as string)) as ClientModule;
    const res = await fetch('/api/sensitive', { method: 'POST' });
    return { status: res.status, body: (await res.json()) as unknown, requirement: client.stepUpRequirement(res), challenge: res.headers.get('www-authenticate') };
  });
  expect(refreshes, 'the worker must not refresh on a step-up challenge').toBe(0);
  expect(refused.status).toBe(401);
  expect(refused.body).toMatchObject({ error: 'insufficient_user_authentication' });
  expect(refused.requirement).toEqual({ maxAge: 300 });
  expect(refused.challenge).toContain('error="insufficient_user_authentication"');

  await login(page);
  const retried = await apiFetch(page, '/api/sensitive', { method: 'POST' });
  expect(retried.status).toBe(200);
  expect(retried.body).toMatchObject({ sub: 'alice', acr: 'pwd', auth_time: Math.floor(clock.ms / 1000) });
  expect(refreshes).toBe(0);
});
