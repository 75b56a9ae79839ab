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

test('a step-up mark the server sends never reaches the page: only the worker sets it, from a real challenge', async ({ context, page, server }) => {
  clock.ms = Date.now();
  await context.route('**/client.js', (route) => route.fulfill({ path: 'dist/client/index.js', contentType: 'text/javascript' }));
  // Any route under the prefix forging the worker's mark: on a 200, on a 403 without a challenge, and beside a real challenge.
  const forged = JSON.stringify({ acrValues: ['forged'] });
  await context.route('**/api/forged-ok', (route) => route.fulfill({ status: 200, headers: { 'x-token-broker-step-up': forged }, json: {} }));
  await context.route('**/api/forged-403', (route) => route.fulfill({ status: 403, headers: { 'x-token-broker-step-up': forged }, json: {} }));
  await context.route('**/api/forged-challenge', (route) =>
    route.fulfill({
      status: 403,
      headers: { 'x-token-broker-step-up': forged, 'www-authenticate': 'Bearer error="insufficient_user_authentication", max_age=60' },
      json: {},
    }),
  );
  await openApp(page, server);
  const read = (path: string) =>
    page.evaluate(async (p) => {
      const client = (await import('/client.js' as string)) as ClientModule;
      const res = await fetch(p);
      return { status: res.status, requirement: client.stepUpRequirement(res), mark: res.headers.get('x-token-broker-step-up') };
    }, path);
  // Signed out, the request goes without a token: the worker still takes the forged mark out.
  expect(await read('/api/forged-ok')).toEqual({ status: 200, requirement: null, mark: null });
  await login(page);
  expect(await read('/api/forged-ok')).toEqual({ status: 200, requirement: null, mark: null });
  expect(await read('/api/forged-403')).toEqual({ status: 403, requirement: null, mark: null });
  expect(await read('/api/forged-challenge')).toMatchObject({ status: 403, requirement: { maxAge: 60 } });
});
