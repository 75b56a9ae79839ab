// Token-handler mode with the provider's tokens kept server-side, in real
// Chromium against panva's oidc-provider (JWT access tokens for one API,
// rotating refresh tokens, counters of what it did): redirect sign-in and API
// calls in both token modes, the provider's token refreshed upstream once for
// 100 concurrent requests over 3 tabs, logout revoking at the provider with the
// provider's logout URL for the page and a second tab following it.
import { test as base, expect, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { startServer } from '../reference-server/app';
import { DEFAULT_SETTINGS } from '../reference-server/settings';
import { startTestOidcProvider, TEST_API_AUDIENCE, type TestOidcProvider } from '../test-support/oidc-provider';
import * as oidc from 'openid-client';
import { upstreamSeal } from '../server/oidc/upstream-seal';
import { apiFetch, stopWorkers } from './support/fixtures';
import { redirectSignIn } from './support/oidc-app';
import { freePort } from '../test-support/free-port';

type Started = Awaited<ReturnType<typeof startServer>>;
interface UpstreamApp { url: string; server: Started; provider: TestOidcProvider; clock: { offset: number }; refusedJti: Set<string>; upstreamKey: string; families: Set<string> }

/** The provider's access-token lifetime: its refresh is made due by moving the token handler's clock, not by waiting. */
const TTL = 600;


const test = base.extend<{ tokens: 'local' | 'provider'; app: UpstreamApp }>({
  tokens: ['provider', { option: true }],
  app: async ({ tokens }, use) => {
    const port = await freePort();
    const url = `http://localhost:${port}`;
    const redirectUri = `${url}/auth/oidc/callback`;
    const provider = await startTestOidcProvider({ redirectUris: [redirectUri], postLogoutRedirectUris: [`${url}/`], accessTokenTtl: TTL });
    const clock = { offset: 0 };
    const refusedJti = new Set<string>();
    const upstreamKey = randomBytes(32).toString('base64url');
    const families = new Set<string>();
    const server = await startServer(
      { port, dpop: 'optional', logLevel: (process.env.DBG ? 'info' : 'silent') as 'info', databasePath: ':memory:', publicDir: 'public', workerConfig: DEFAULT_SETTINGS.workerConfig },
      {
        oidc: {
          issuer: provider.issuer,
          clientId: provider.client.clientId,
          clientSecret: provider.client.clientSecret,
          redirectUri,
          secret: randomBytes(32).toString('base64url'),
          upstreamKey,
          tokens,
          postLogoutRedirectUri: `${url}/`,
          allowInsecureRequests: true,
          now: () => Date.now() + clock.offset,
        },
        // The login events name each family started, so a test can look at what the store keeps of it.
        securityEvents: { policy: (event) => void (event.type === 'login' && families.add(event.family)) },
        providerApi: { issuer: provider.issuer, jwksUri: provider.jwksUri, audience: TEST_API_AUDIENCE, refusedJti },
      },
    );
    await use({ url, server, provider, clock, refusedJti, upstreamKey, families });
    await server.close();
    await provider.stop().catch(() => undefined);
  },
});

async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 15_000 });
}

const status = (page: Page) => page.evaluate(() => window.tokenBroker.status());
const providerMe = (page: Page) => apiFetch(page, '/api/provider/me') as Promise<{ status: number; body: { sub?: string; aud?: string; jti?: string } }>;

for (const tokens of ['local', 'provider'] as const) {
  test.describe(`tokens: '${tokens}'`, () => {
    test.use({ tokens });
    test('redirect sign-in, then API calls with the tokens of this mode; the page never sees one', async ({ context, page, app }) => {
      await open(page, `${app.url}/`);
      await redirectSignIn(page, app);
      const session = await status(page);
      // The broker's own tokens name the account <iss>#<sub>; the provider's tokens carry its sub as it is.
      const localSub = `${app.provider.issuer}#${app.provider.subject}`;
      expect(session.claims.sub).toBe(tokens === 'local' ? localSub : app.provider.subject);
      expect(JSON.stringify(session)).not.toMatch(/eyJ/);
      const local = await apiFetch(page, '/api/me');
      const upstream = await providerMe(page);
      if (tokens === 'local') {
        // The broker's own token, with the provider's sub: the local guard takes it, the provider's API does not.
        expect([local.status, (local.body as { sub: string }).sub]).toEqual([200, localSub]);
        expect(upstream.status).toBe(401);
      } else {
        // The provider's own JWT, verified by the API against the provider's JWKS; the local guard refuses it.
        expect(upstream.status).toBe(200);
        expect(upstream.body.sub).toBe(app.provider.subject);
        expect(upstream.body.aud).toBe(TEST_API_AUDIENCE);
        expect(local.status).toBe(401);
      }
      // After the browser stops the worker, the session is restored from the cookie: the same kind of token.
      await stopWorkers(context, page);
      expect((await (tokens === 'local' ? apiFetch(page, '/api/me') : providerMe(page))).status).toBe(200);
    });

    test('logout revokes locally and at the provider, answers the provider\'s logout URL, and a second tab follows it', async ({ context, page, app }) => {
      await open(page, `${app.url}/`);
      await redirectSignIn(page, app);
      const other = await context.newPage();
      await open(other, `${app.url}/`);
      expect((await status(other)).authenticated).toBe(true);
      const revoked = app.provider.counts.revocations;
      const out = await page.evaluate(() => window.tokenBroker.logout());
      expect(out.authenticated).toBe(false);
      const logoutUrl = new URL(out.logoutUrl!);
      expect(logoutUrl.origin).toBe(app.provider.issuer);
      expect(logoutUrl.searchParams.get('post_logout_redirect_uri')).toBe(`${app.url}/`);
      // The URL is the page's: it names the client, and carries none of the provider's tokens (no id_token_hint).
      expect(logoutUrl.searchParams.get('client_id')).toBe(app.provider.client.clientId);
      expect(logoutUrl.searchParams.get('id_token_hint')).toBeNull();
      expect(logoutUrl.href).not.toMatch(/eyJ/);
      // The provider's grant ended (RFC 7009 revocation of its refresh token).
      expect(app.provider.counts.revocations).toBe(revoked + 1);
      expect((await status(other)).authenticated).toBe(false);
      expect((await providerMe(other)).status).toBe(401);
      expect((await apiFetch(other, '/api/me')).status).toBe(401);
      // A status() asks the server again (no session to restore: the family is gone).
      expect((await status(page)).authenticated).toBe(false);
    });
  });
}

test('a due provider token: 100 concurrent API requests over 3 tabs, one upstream refresh, no 401 at the page', async ({ context, page, app }) => {
  await open(page, `${app.url}/`);
  await redirectSignIn(page, app);
  const tabs = [page, await context.newPage(), await context.newPage()];
  for (const tab of tabs.slice(1)) await open(tab, `${app.url}/`);
  const before = await providerMe(page);
  expect(before.status).toBe(200);
  // The provider's token is near its end by the token handler's clock, and the API no longer takes it
  // (as once it expires): the worker's retry after one refresh must carry the upstream-refreshed token.
  app.clock.offset = (TTL - 30) * 1000;
  app.refusedJti.add(before.body.jti!);
  const grants = app.provider.counts.refreshGrants;
  const revocations = app.provider.counts.revocations;
  const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => providerMe(tabs[i % 3]!)));
  expect(answers.filter((a) => a.status !== 200)).toEqual([]);
  expect(app.provider.counts.refreshGrants - grants).toBe(1);
  // The rotated provider refresh token was never presented twice (the provider would have ended the grant).
  expect(app.provider.counts.revocations).toBe(revocations);
  const jtis = new Set(answers.map((a) => a.body.jti));
  expect(jtis.size).toBe(1);
  expect(jtis.has(before.body.jti)).toBe(false);
});

test('the provider down when its token is due: the session survives, and the next request after it is back gets a new token', async ({ page, app }) => {
  await open(page, `${app.url}/`);
  await redirectSignIn(page, app);
  const before = await providerMe(page);
  app.clock.offset = (TTL - 30) * 1000;
  app.refusedJti.add(before.body.jti!);
  await app.provider.stop();
  const during = await providerMe(page);
  await app.provider.start();
  expect(during.status).not.toBe(200);
  expect((await status(page)).authenticated).toBe(true);
  // The worker honours the server's Retry-After before it refreshes again.
  await expect.poll(async () => (await providerMe(page)).status, { timeout: 15_000 }).toBe(200);
  expect((await providerMe(page)).body.jti).not.toBe(before.body.jti);
});

test('the provider refusing its refresh token (revoked there) ends the session: the page sees 401, no session, no family or record left', async ({ page, app }) => {
  await open(page, `${app.url}/`);
  await redirectSignIn(page, app);
  const before = await providerMe(page);
  // Revoked at the provider behind the broker's back (the user at the provider's account page, an admin).
  const familyId = [...app.families][0]!;
  const record = (await upstreamSeal(app.upstreamKey).open(await app.server.store.upstream!(familyId)))!;
  const config = await oidc.discovery(new URL(app.provider.issuer), app.provider.client.clientId, app.provider.client.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
  await oidc.tokenRevocation(config, record.refreshToken!);
  app.clock.offset = (TTL - 30) * 1000;
  app.refusedJti.add(before.body.jti!);
  expect((await providerMe(page)).status).toBe(401);
  expect((await status(page)).authenticated).toBe(false);
  expect(await app.server.store.upstream!(familyId)).toBeNull();
  expect(await app.server.store.liveUntil(familyId, Date.now())).toBeNull();
});

