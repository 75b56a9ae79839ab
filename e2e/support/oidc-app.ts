// The app of the redirect sign-in specs: the reference server with token-broker/server/oidc
// against a real provider (test-support/oidc-provider) on another loopback origin
// (127.0.0.1 while the app is on localhost: the redirect back is cross-site), and the
// page-side steps the specs share.
import { expect, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { startServer } from '../../reference-server/app';
import { DEFAULT_SETTINGS, type Settings } from '../../reference-server/settings';
import type { OidcOptions } from '../../server/entries/oidc';
import { startTestOidcProvider, type TestOidcProvider } from '../../test-support/oidc-provider';
import { apiFetch } from './fixtures';
import { freePort } from '../../test-support/free-port';

type Started = Awaited<ReturnType<typeof startServer>>;
export interface OidcApp { url: string; server: Started; provider: TestOidcProvider; close(): Promise<void> }


/** `host`: the app's host name (Chromium resolves every `*.localhost` to loopback). */
export async function startOidcApp(settings: Partial<Settings> = {}, oidc: Partial<OidcOptions> = {}, host = 'localhost'): Promise<OidcApp> {
  // The provider must know the callback's exact URL, and the app the provider's issuer: the port first.
  const port = await freePort();
  const url = `http://${host}:${port}`;
  const redirectUri = `${url}/auth/oidc/callback`;
  const provider = await startTestOidcProvider({ redirectUris: [redirectUri] });
  const server = await startServer(
    { port, dpop: 'optional', logLevel: (process.env.DBG ? 'info' : 'silent') as 'info', databasePath: ':memory:', publicDir: 'public', workerConfig: DEFAULT_SETTINGS.workerConfig, ...settings },
    {
      oidc: {
        issuer: provider.issuer,
        clientId: provider.client.clientId,
        clientSecret: provider.client.clientSecret,
        redirectUri,
        secret: randomBytes(32).toString('base64url'),
        allowInsecureRequests: true,
        ...oidc,
      },
    },
  );
  return {
    url,
    server,
    provider,
    async close() {
      await server.close();
      await provider.stop().catch(() => undefined);
    },
  };
}

export async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 15_000 });
}

export async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await ready(page);
}

/**
 * `broker.signIn()` and the round trip through the provider, until the app's page is ready again.
 * A worker with DPoP asks the server first: the page leaves only once it answers, so this waits for
 * the next document of the app, not for a URL the page may still be on.
 */
export async function redirectSignIn(page: Page, app: Pick<OidcApp, 'url'>, returnTo = '/'): Promise<void> {
  await Promise.all([
    page.waitForEvent('framenavigated', {
      predicate: (frame) => frame === page.mainFrame() && new URL(frame.url()).origin === app.url && !new URL(frame.url()).pathname.startsWith('/auth/'),
      timeout: 15_000,
    }),
    page.evaluate((r) => window.tokenBroker.signIn({ returnTo: r }), returnTo),
  ]);
  await ready(page);
}

/**
 * Starts a sign-in and stops it where the provider sends the browser back: the callback's URL
 * (code, state) and the browser's round-trip cookie, for the test to deliver as it likes.
 * (Playwright does not intercept the target of a redirect, so the provider's last hop is.)
 */
export async function stopAtCallback(page: Page, app: Pick<OidcApp, 'url'>): Promise<{ callback: string; cookie: { name: string; value: string } }> {
  const context = page.context();
  // Playwright's routes do not see the target of a redirect; the DevTools protocol's Fetch domain does.
  const cdp = await context.newCDPSession(page);
  let callback = '';
  cdp.on('Fetch.requestPaused', (event: { requestId: string; request: { url: string } }) => {
    callback = event.request.url;
    void cdp.send('Fetch.fulfillRequest', { requestId: event.requestId, responseCode: 200, body: Buffer.from('stopped before the callback').toString('base64') });
  });
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: `${app.url}/auth/oidc/callback?*` }] });
  await page.evaluate(() => window.tokenBroker.signIn({ returnTo: '/' }));
  await expect.poll(() => callback, { timeout: 15_000 }).not.toBe('');
  await cdp.send('Fetch.disable');
  await cdp.detach();
  const cookie = (await context.cookies(callback)).find((c) => c.name.endsWith('broker_oidc'));
  expect(cookie).toBeTruthy();
  return { callback, cookie: { name: cookie!.name, value: cookie!.value } };
}

export const status = (page: Page) => page.evaluate(() => window.tokenBroker.status());
export const me = (page: Page) => apiFetch(page, '/api/me');
export const signInError = (page: Page) => page.evaluate(() => window.tokenBroker.signInError);
