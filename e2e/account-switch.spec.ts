// A sibling subdomain replaces the victim's refresh cookie with one of its own
// account (issue 24, item 1): the worker must never sign the victim into it.
// The cookie is the development one (`broker_rt`, no prefix) on purpose: the
// `__Host-` prefix is a separate defence, and this test must hold without it.
// Chromium resolves *.localhost to loopback, so the app and the attacker are two
// subdomains of site.localhost on one server.
import type { BrowserContext, Page } from '@playwright/test';
import { apiFetch, expect, login, openApp, recordSessionEvents, sessionEvents, status, stopWorkers, test, type RunningServer } from './support/fixtures';

const COOKIE = 'broker_rt';
const HEADERS = { 'content-type': 'application/json', 'x-token-broker': '1' };
/** Over Chromium's limit of cookies per registrable domain (about 180). */
const JUNK = 200;

// Bearer tokens: with DPoP required, bob's family (bound to bob's key) would only refuse the victim's proof.
test.use({ serverOptions: { dpop: 'optional', dpopNonce: false, accessTokenTtl: 4, workerConfig: { dpop: false, persist: 'memory', refreshBeforeExpiry: 1 } } });

/** The attacker's own session, made outside the victim's browser: its refresh token. */
async function bobsRefreshToken(server: RunningServer): Promise<string> {
  const res = await fetch(`${server.url}/auth/login`, { method: 'POST', headers: { ...HEADERS, origin: server.url }, body: JSON.stringify({ username: 'bob', password: 'builder' }) });
  return /(?<![\w-])broker_rt=([^;]+)/.exec(res.headers.get('set-cookie')!)![1]!;
}

/**
 * Cookie-jar overflow from evil.site.localhost, as the issue describes: junk
 * cookies for the parent domain evict the victim's host-only refresh cookie (the
 * oldest), the junk goes, and bob's refresh cookie is set for the parent domain,
 * so it is the only one of the name the app's refresh request carries.
 */
async function plantBobsCookie(context: BrowserContext, server: RunningServer, app: string): Promise<void> {
  const bob = await bobsRefreshToken(server);
  await context.route('**/evil', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>evil</title>' }));
  const attacker = await context.newPage();
  await attacker.goto(`http://evil.site.localhost:${server.port}/evil`);
  const write = (cookies: string[]) => attacker.evaluate((cs) => cs.forEach((c) => (document.cookie = c)), cookies);
  const jar = async (url: string, name?: string) => (await context.cookies(url)).filter((c) => name === undefined || c.name === name);
  const junk = Array.from({ length: JUNK }, (_, i) => `junk${i}=1; Domain=site.localhost; Path=/`);
  await write(junk);
  // Page cookie writes land asynchronously; the victim's own cookie is gone once the jar overflowed.
  await expect.poll(() => jar(`${app}/auth/refresh`, COOKIE)).toEqual([]);
  await write(junk.map((c) => c.replace('=1;', '=; Max-Age=0;')));
  await expect.poll(async () => (await jar(`${app}/`)).filter((c) => c.name.startsWith('junk')).length).toBe(0);
  await write([`${COOKIE}=${bob}; Domain=site.localhost; Path=/auth`]);
  // The attack worked: the app's refresh request now carries bob's cookie alone.
  await expect.poll(async () => (await jar(`${app}/auth/refresh`, COOKIE)).map((c) => [c.domain, c.value])).toEqual([['.site.localhost', bob]]);
  await attacker.close();
}

/** What every tab and the server must show after the refresh that met bob's cookie. */
async function expectSignedOutNotBob(server: RunningServer, tabs: Page[]): Promise<void> {
  for (const tab of tabs) await expect.poll(() => sessionEvents(tab)).toContain('account_changed');
  for (const tab of tabs) expect((await sessionEvents(tab)).filter((r) => r === 'refresh')).toEqual([]);
  for (const tab of tabs) expect(await status(tab)).toMatchObject({ authenticated: false, claims: {} });
  expect((await apiFetch(tabs[0]!, '/api/me')).status).toBe(401);
  expect(server.stats.accountChanged).toBe(1);
  // The worker's logout presented bob's (rotated) cookie: his family is revoked, none of his is live.
  expect(await server.broker.revokeUser('bob')).toBe(0);
}

const triggers: Record<string, (context: BrowserContext, page: Page) => Promise<unknown>> = {
  'a forced refresh': (_context, page) =>
    page.evaluate(() =>
      window.tokenBroker.refresh().then(
        (s) => `session of ${String(s.claims.sub)}`,
        (e: { code: string }) => e.code,
      ),
    ),
  'a request after the token expired': async (_context, page) => {
    await page.waitForTimeout(3_500);
    return apiFetch(page, '/api/me');
  },
  'a silent restore after the browser stopped the worker (persist memory)': async (context, page) => {
    await stopWorkers(context, page);
    return status(page);
  },
};

for (const [trigger, run] of Object.entries(triggers)) {
  test(`a planted refresh cookie of another account, met by ${trigger}: every tab is signed out with account_changed, never into bob's session`, async ({
    context,
    page,
    server,
  }) => {
    const app = `http://app.site.localhost:${server.port}`;
    await openApp(page, { url: app });
    expect((await login(page)).claims).toMatchObject({ sub: 'alice' });
    const other = await context.newPage();
    await openApp(other, { url: app });
    await recordSessionEvents(page);
    await recordSessionEvents(other);

    await plantBobsCookie(context, server, app);
    const outcome = await run(context, page);
    expect(JSON.stringify(outcome)).not.toContain('bob');
    await expectSignedOutNotBob(server, [page, other]);
    // The page's own login() may switch accounts: that is the way to bob's session.
    expect((await login(page, 'bob', 'builder')).claims).toMatchObject({ sub: 'bob' });
    expect(((await apiFetch(page, '/api/me')).body as { sub: string }).sub).toBe('bob');
  });
}
