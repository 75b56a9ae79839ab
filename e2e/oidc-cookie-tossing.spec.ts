// Login CSRF by cookie tossing, in Chromium: a page on a sibling subdomain
// (evil.site.localhost beside app.site.localhost; Chromium resolves *.localhost
// to loopback and treats it as a secure context, so Secure cookies and the
// __Host- prefix apply on plain http there) sets the round-trip cookie of a
// sign-in the attacker started in its own browser for the parent domain, then
// sends the victim to that sign-in's callback. With Secure the cookie is
// __Host-broker_oidc, which no other host can set: state_mismatch, no session.
// On plain http (cookieSecure false) it is broker_oidc, which a sibling can
// still toss in: the limit the README states, pinned here.
import { test as base, expect, type BrowserContext } from '@playwright/test';
import { open, ready, signInError, startOidcApp, status, stopAtCallback, type OidcApp } from './support/oidc-app';

const test = base.extend<{ secure: boolean; app: OidcApp }>({
  secure: [true, { option: true }],
  app: async ({ secure }, use) => {
    // Bearer tokens: with DPoP the tossed sign-in's family is bound to the attacker's key and the victim's worker could not refresh it anyway.
    const app = await startOidcApp({ dpop: 'optional', dpopNonce: false, workerConfig: { dpop: false }, cookieSecure: secure }, {}, 'app.site.localhost');
    await use(app);
    await app.close();
  },
});

/** The attacker's sign-in, made in its own browser and stopped at the callback. */
async function attackersSignIn(other: BrowserContext, app: OidcApp) {
  const page = await other.newPage();
  await open(page, `${app.url}/`);
  return stopAtCallback(page, app);
}

async function toss(context: BrowserContext, app: OidcApp, cookie: string): Promise<string[]> {
  const evil = `${app.url.replace('app.site.localhost', 'evil.site.localhost')}/evil`;
  await context.route('**/evil', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>evil</title>' }));
  const attacker = await context.newPage();
  await attacker.goto(evil);
  await attacker.evaluate((c) => {
    document.cookie = c;
  }, cookie);
  await attacker.close();
  return (await context.cookies(`${app.url}/auth/oidc/callback`)).filter((c) => c.name.endsWith('broker_oidc')).map((c) => c.name);
}

test('Secure: a sibling subdomain cannot toss in the round trip of its own sign-in: the callback is state_mismatch, no session', async ({ browser, context, page, app }) => {
  const other = await browser.newContext();
  const { callback, cookie } = await attackersSignIn(other, app);
  await other.close();
  expect(cookie.name).toBe('__Host-broker_oidc');
  await open(page, `${app.url}/`);
  // The prefix forbids a Domain attribute: the browser drops the tossed cookie.
  expect(await toss(context, app, `${cookie.name}=${cookie.value}; Domain=site.localhost; Path=/; Secure; SameSite=Lax`)).toEqual([]);
  await page.goto(callback);
  await ready(page);
  expect(await signInError(page)).toBe('state_mismatch');
  expect((await status(page)).authenticated).toBe(false);
  expect(app.server.stats.login).toBe(0);
});

test.describe('plain http', () => {
  test.use({ secure: false });
  test('the limit: without Secure, a sibling subdomain tosses broker_oidc in and the victim is signed into the attacker\'s sign-in', async ({ browser, context, page, app }) => {
    const other = await browser.newContext();
    const { callback, cookie } = await attackersSignIn(other, app);
    await other.close();
    expect(cookie.name).toBe('broker_oidc');
    await open(page, `${app.url}/`);
    expect(await toss(context, app, `${cookie.name}=${cookie.value}; Domain=site.localhost; Path=/auth/oidc/callback; SameSite=Lax`)).toEqual(['broker_oidc']);
    await page.goto(callback);
    await ready(page);
    expect(await signInError(page)).toBeNull();
    expect((await status(page)).authenticated).toBe(true);
  });
});
