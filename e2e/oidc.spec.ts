// Redirect sign-in at a real OpenID provider (panva's oidc-provider, on its own
// loopback origin: 127.0.0.1 while the app is on localhost, so the redirect back
// is cross-site as with a real provider) through token-broker/server/oidc on the
// reference app's Fastify plugin, in real Chromium: the start route, the
// provider, the callback, the refresh cookie, the redirect back, and then the
// worker's status() and API calls. And every way it can fail: each one lands on
// the app with a stable `broker_error` code and leaves no session behind.
import { test as base, expect, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { startServer } from '../reference-server/app';
import { DEFAULT_SETTINGS } from '../reference-server/settings';
import { startTestOidcProvider, type TestOidcProvider } from '../test-support/oidc-provider';
import { apiFetch, stopWorkers } from './support/fixtures';
import { redirectSignIn as signInRoundTrip, stopAtCallback } from './support/oidc-app';
import { freePort } from '../test-support/free-port';

type Started = Awaited<ReturnType<typeof startServer>>;
interface OidcApp { url: string; server: Started; provider: TestOidcProvider }


const test = base.extend<{ app: OidcApp }>({
  // eslint-disable-next-line no-empty-pattern -- Playwright requires a destructuring pattern for the fixtures
  app: async ({}, use) => {
    // The provider must know the callback's exact URL, and the app the provider's issuer: the port first.
    const port = await freePort();
    const url = `http://localhost:${port}`;
    const redirectUri = `${url}/auth/oidc/callback`;
    const provider = await startTestOidcProvider({ redirectUris: [redirectUri] });
    const server = await startServer(
      { port, dpop: 'optional', logLevel: (process.env.DBG ? 'info' : 'silent') as 'info', databasePath: ':memory:', publicDir: 'public', workerConfig: DEFAULT_SETTINGS.workerConfig },
      {
        oidc: {
          issuer: provider.issuer,
          clientId: provider.client.clientId,
          clientSecret: provider.client.clientSecret,
          redirectUri,
          secret: randomBytes(32).toString('base64url'),
          allowInsecureRequests: true,
        },
      },
    );
    await use({ url, server, provider });
    await server.close();
    await provider.stop().catch(() => undefined);
  },
});

async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await ready(page);
}

async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 15_000 });
}

const redirectSignIn = (page: Page, app: OidcApp, returnTo = '/') => signInRoundTrip(page, app, returnTo);

const status = (page: Page) => page.evaluate(() => window.tokenBroker.status());
const me = (page: Page) => apiFetch(page, '/api/me');
const signInError = (page: Page) => page.evaluate(() => window.tokenBroker.signInError);

test('redirect sign-in on a first visit: the session is found, API calls carry the provider\'s sub, the URL is clean', async ({ page, app }) => {
  await open(page, `${app.url}/`);
  // The demo's status() on load found no session: the worker wrote its signed-out marker.
  expect((await status(page)).authenticated).toBe(false);
  await redirectSignIn(page, app, '/?tab=orders#list');
  expect(new URL(page.url()).search).toBe('?tab=orders');
  expect(new URL(page.url()).hash).toBe('#list');
  const session = await status(page);
  expect(session.authenticated).toBe(true);
  expect(session.claims.sub).toBe(`${app.provider.issuer}#${app.provider.subject}`);
  const answer = await me(page);
  expect(answer.status).toBe(200);
  expect((answer.body as { sub: string }).sub).toBe(`${app.provider.issuer}#${app.provider.subject}`);
  expect(await signInError(page)).toBeNull();
});

test('after a sign-out the next redirect sign-in is found, and a second tab already open follows it', async ({ context, page, app }) => {
  await open(page, `${app.url}/`);
  await redirectSignIn(page, app);
  const other = await context.newPage();
  await open(other, `${app.url}/`);
  expect((await status(other)).authenticated).toBe(true);
  await page.evaluate(() => window.tokenBroker.logout());
  expect((await status(other)).authenticated).toBe(false);
  expect((await me(other)).status).toBe(401);

  await redirectSignIn(page, app);
  expect((await status(page)).authenticated).toBe(true);
  // The other tab made no navigation: the worker's broadcast and its own status() both say signed in.
  await expect.poll(() => status(other).then((s) => s.authenticated)).toBe(true);
  expect((await me(other)).status).toBe(200);
});

test('the session survives the worker being stopped, and a refresh on expiry', async ({ context, page, app }) => {
  await open(page, `${app.url}/`);
  await redirectSignIn(page, app);
  await stopWorkers(context, page);
  expect((await me(page)).status).toBe(200);
  expect((await page.evaluate(() => window.tokenBroker.refresh())).claims.sub).toBe(`${app.provider.issuer}#${app.provider.subject}`);
});

async function expectNoSession(page: Page, app: OidcApp, logins = 0): Promise<void> {
  expect((await status(page)).authenticated).toBe(false);
  expect((await me(page)).status).toBe(401);
  // No family was started: the broker counts one login per family it creates.
  expect(app.server.stats.login).toBe(logins);
}

test('consent denied at the provider: access_denied on the app, no session', async ({ page, app }) => {
  await open(page, `${app.url}/`);
  app.provider.nextInteraction = 'deny';
  await redirectSignIn(page, app);
  expect(await signInError(page)).toBe('access_denied');
  expect(new URL(page.url()).search).toBe('');
  await expectNoSession(page, app);
});

async function deliver(page: Page, callback: string): Promise<void> {
  await page.goto(callback);
  await ready(page);
}

test('a callback with another state, or with no sign-in started: state_mismatch, no session', async ({ page, app }) => {
  await open(page, `${app.url}/`);
  const { callback } = await stopAtCallback(page, app);
  const tampered = new URL(callback);
  tampered.searchParams.set('state', 'not-the-state-this-browser-sent');
  await deliver(page, tampered.href);
  expect(await signInError(page)).toBe('state_mismatch');
  await expectNoSession(page, app);
  // The round-trip cookie went with that answer: the right state now finds no sign-in either.
  await deliver(page, callback);
  expect(await signInError(page)).toBe('state_mismatch');
  await expectNoSession(page, app);
  // A callback this browser never started (a link from elsewhere: login CSRF).
  await deliver(page, `${app.url}/auth/oidc/callback?code=forged&state=forged`);
  expect(await signInError(page)).toBe('state_mismatch');
  await expectNoSession(page, app);
});

test('a replayed code: code_rejected, and the browser has no session', async ({ page, app }) => {
  await open(page, `${app.url}/`);
  const { callback, cookie: tripCookie } = await stopAtCallback(page, app);
  // The plain-http cookie name: this app does not run Secure.
  expect(tripCookie.name).toBe('broker_oidc');
  const cookie = `${tripCookie.name}=${tripCookie.value}`;
  // Someone else delivered this browser's callback first: the code is spent when the browser arrives.
  const first = await fetch(callback, { redirect: 'manual', headers: { cookie } });
  expect(first.status).toBe(303);
  await deliver(page, callback);
  expect(await signInError(page)).toBe('code_rejected');
  expect((await status(page)).authenticated).toBe(false);
  expect((await me(page)).status).toBe(401);
});

test('the provider down at the callback, and at the start: provider_unavailable, no session', async ({ page, app }) => {
  await open(page, `${app.url}/`);
  const { callback } = await stopAtCallback(page, app);
  await app.provider.stop();
  await deliver(page, callback);
  expect(await signInError(page)).toBe('provider_unavailable');
  await expectNoSession(page, app);
});

test('a returnTo of another origin is refused at the start route: bad_return_to, and no trip to the provider', async ({ page, app }) => {
  await open(page, `${app.url}/`);
  await page.goto(`${app.url}/auth/oidc/start?returnTo=${encodeURIComponent('//evil.example/')}`);
  await ready(page);
  expect(new URL(page.url()).origin).toBe(app.url);
  expect(await signInError(page)).toBe('bad_return_to');
});
