// Cookie-jar overflow: a page on a sibling subdomain shares the victim's
// cookie budget for the registrable domain (Chromium keeps about 180). It sets
// a few hundred junk cookies for the parent domain, which evicts the victim's
// refresh cookie; it deletes its junk and plants the attacker's own refresh
// token under every name it can, so that no second cookie of the name is left
// for the duplicate check to refuse. With a `__Host-` cookie nothing it plants
// is read: the victim is signed out, never signed into the attacker's account.
// Chromium resolves *.localhost to loopback and treats it as secure, so the app
// and the attacker are two subdomains of site.localhost on one server.
import type { BrowserContext, Page } from '@playwright/test';
import { DEFAULT_SETTINGS } from '../reference-server/settings';
import { newDpopKey, signProof } from '../test-support/dpop-client';
import { apiFetch, expect, login, openApp, status, test, type RunningServer } from './support/fixtures';

const HEADERS = { 'content-type': 'application/json', 'x-token-broker': '1' };
const JUNK = 300;

/** The attacker signs in as bob out of band, with a key of its own where DPoP is on; resolves bob's refresh token. */
async function bobsRefreshToken(server: RunningServer, dpop: boolean): Promise<string> {
  const key = await newDpopKey();
  const url = `${server.url}/auth/login`;
  const attempt = async (nonce?: string) =>
    fetch(url, {
      method: 'POST',
      headers: { ...HEADERS, ...(dpop && { dpop: await signProof(key, { htm: 'POST', htu: url, nonce }) }) },
      body: JSON.stringify({ username: 'bob', password: 'builder' }),
    });
  let res = await attempt();
  if (res.status === 400 && res.headers.get('dpop-nonce')) res = await attempt(res.headers.get('dpop-nonce')!);
  expect(res.status).toBe(200);
  return /^[^=]*broker_rt=([^;]+)/.exec(res.headers.get('set-cookie')!)![1]!;
}

function setCookies(attacker: Page, cookies: string[]): Promise<void> {
  return attacker.evaluate((list) => {
    for (const c of list) document.cookie = c;
  }, cookies);
}

/**
 * The spellings a sibling can try, one at a time (two of one name would meet
 * the duplicate check): the real name with Domain (the browser refuses it),
 * the old `__Secure-` name, case variants, the plain development name, and
 * one set HttpOnly by the sibling's own server.
 */
const PLANTINGS: { cookie: string; by: 'script' | 'server' }[] = [
  { cookie: '__Secure-broker_rt=T; Domain=site.localhost; Path=/auth; Secure', by: 'script' },
  { cookie: '__Secure-broker_rt=T; Domain=site.localhost; Path=/; Secure; HttpOnly', by: 'server' },
  { cookie: '__Host-Http-broker_rt=T; Domain=site.localhost; Path=/; Secure; HttpOnly', by: 'server' },
  { cookie: '__host-http-broker_rt=T; Domain=site.localhost; Path=/; Secure', by: 'script' },
  { cookie: '__Host-broker_rt=T; Domain=site.localhost; Path=/; Secure', by: 'script' },
  { cookie: 'broker_rt=T; Domain=site.localhost; Path=/auth', by: 'script' },
  { cookie: 'broker_rt=T; Domain=site.localhost; Path=/', by: 'script' },
];

async function overflowAndPlant(context: BrowserContext, server: RunningServer, appUrl: string, planting: string, by: 'script' | 'server'): Promise<void> {
  const victimsCookie = async () => (await context.cookies(`${appUrl}/auth/refresh`)).filter((c) => c.domain === 'app.site.localhost' && c.name.endsWith('broker_rt'));
  expect(await victimsCookie()).toHaveLength(1);

  const attacker = await context.newPage();
  await context.route('**/evil', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>evil</title>' }));
  // A sibling with a server of its own can set HttpOnly cookies too, in its responses.
  await context.route('**/evil-set?*', (route) =>
    route.fulfill({ contentType: 'text/html', body: 'ok', headers: { 'set-cookie': new URL(route.request().url()).searchParams.get('c')! } }),
  );
  await attacker.goto(`http://evil.site.localhost:${server.port}/evil`);

  const junk = Array.from({ length: JUNK }, (_, i) => `junk${i}=${'x'.repeat(20)}; Domain=site.localhost; Path=/; Secure`);
  await setCookies(attacker, junk);
  // The overflow evicted the victim's refresh cookie (document.cookie reaches the store asynchronously).
  await expect.poll(victimsCookie).toHaveLength(0);
  await setCookies(attacker, junk.map((c) => c.replace(/=x+;/, '=; Max-Age=0;')));
  await expect.poll(async () => (await context.cookies()).filter((c) => c.name.startsWith('junk')).length).toBe(0);

  if (by === 'script') await setCookies(attacker, [planting]);
  else await attacker.goto(`http://evil.site.localhost:${server.port}/evil-set?c=${encodeURIComponent(planting)}`);
  await attacker.close();
}

async function victimOutcome(page: Page): Promise<{ refreshed: string; status: unknown; me: unknown }> {
  const refreshed = await page.evaluate(() =>
    window.tokenBroker.refresh().then(
      (s) => `session of ${String(s.claims.sub)}`,
      (e: { code: string }) => e.code,
    ),
  );
  const { claims } = await status(page);
  const me = await apiFetch(page, '/api/me');
  return { refreshed, status: claims.sub, me: me.status === 200 ? (me.body as { sub: string }).sub : me.status };
}

const MODES = [
  { dpop: 'off', build: 'sw.js', workerDpop: false },
  { dpop: 'optional', build: 'sw.js', workerDpop: false },
  { dpop: 'required', build: 'sw-dpop.js', workerDpop: true },
] as const;

for (const mode of MODES) {
  test.describe(`DPOP=${mode.dpop} (${mode.build})`, () => {
    const workerConfig = { ...DEFAULT_SETTINGS.workerConfig, dpop: mode.workerDpop };
    test.use({
      serverOptions: { cookieSecure: true, dpop: mode.dpop, dpopNonce: mode.dpop === 'required', workerConfig },
      serverParts: { workerScripts: { '/sw-dpop.js': { build: mode.build, config: workerConfig } } },
    });

    test('a sibling subdomain overflows the cookie jar and plants its session: the victim is never signed in as the attacker', async ({ context, page, server }) => {
      test.setTimeout(120_000);
      const app = { url: `http://app.site.localhost:${server.port}` };
      const bob = await bobsRefreshToken(server, mode.dpop === 'required');
      await openApp(page, app);
      for (const { cookie, by } of PLANTINGS) {
        const planting = cookie.replace('=T;', `=${bob};`);
        expect((await login(page)).claims, cookie).toMatchObject({ sub: 'alice' });
        await overflowAndPlant(context, server, app.url, planting, by);
        // The victim's next refresh, status and API call: its own session has ended (its cookie was evicted), and nothing is bob's.
        expect(await victimOutcome(page), cookie).toEqual({ refreshed: 'not_authenticated', status: undefined, me: 401 });
        await context.clearCookies({ domain: '.site.localhost' });
      }
    });
  });
}
