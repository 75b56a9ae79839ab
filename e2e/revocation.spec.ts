// Instant revocation across instances: two reference servers on one Redis
// (the same SIGNING_KEY and REFRESH_SECRET), one browser context of the same
// account on each. A session ended through instance A (sign out, sign out
// everywhere, reuse detected) has its still-valid access tokens refused at once
// by instance B, with the stable 401 code token_revoked, whether the other
// browser's worker sends them or an attacker who copied one does.
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { exportJWK, generateKeyPair } from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import { startServer } from '../reference-server/app';
import { DEFAULT_SETTINGS } from '../reference-server/settings';
import { startRedisServer, type TestRedis } from '../test-support/redis-server';
import { apiFetch, captureIssuedTokens, expect, login, openApp, status, test, type RunningServer } from './support/fixtures';

const COOKIE = 'broker_rt';
const WORKER_HEADERS = { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin' };
const GRACE_SECONDS = 1;

let redis: TestRedis;
test.beforeAll(async () => {
  redis = await startRedisServer();
});
test.afterAll(async () => {
  await redis?.stop();
});

async function startInstances(): Promise<[RunningServer, RunningServer]> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const shared = {
    store: 'redis' as const,
    redisUrl: redis.url,
    redisPrefix: `e2e:${randomUUID()}:`,
    refreshSecret: randomBytes(32).toString('base64url'),
    signingKey: JSON.stringify(await exportJWK(privateKey)),
    rotationGraceSeconds: GRACE_SECONDS,
    publicDir: 'public',
    // Bearer tokens, so that a copied token can be replayed from Node as an attacker would.
    dpop: 'optional' as const,
    dpopNonce: false,
    workerConfig: { ...DEFAULT_SETTINGS.workerConfig, dpop: false },
  };
  return [await startServer(shared), await startServer(shared)];
}

/** A copied access token sent to `server` from outside the browser. */
async function replay(server: RunningServer, token: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

/** The answers to the API requests the worker of `context` sends, as they come from the server. */
async function recordApiAnswers(context: BrowserContext): Promise<{ status: number; error?: string; authorized: boolean }[]> {
  const seen: { status: number; error?: string; authorized: boolean }[] = [];
  await context.route('**/api/me', async (route) => {
    const response = await route.fetch();
    const text = await response.text();
    let error: string | undefined;
    try {
      error = (JSON.parse(text) as { error?: string }).error;
    } catch {
      // not JSON
    }
    seen.push({ status: response.status(), error, authorized: !!route.request().headers().authorization });
    await route.fulfill({ response, body: text });
  });
  return seen;
}

/**
 * Alice signed in twice: `page` (the test's context) through instance A, `pageB` in another
 * browser context through instance B; the access tokens each context was issued, newest last.
 * `run` gets them; both instances and the other context are closed after it, whatever happens.
 */
async function twoBrowsersSignedIn(
  browser: Browser,
  context: BrowserContext,
  page: Page,
  run: (s: { a: RunningServer; b: RunningServer; other: BrowserContext; pageB: Page; issuedA: string[]; issuedB: string[] }) => Promise<void>,
): Promise<void> {
  const [a, b] = await startInstances();
  const other = await browser.newContext();
  try {
    const issuedA = await captureIssuedTokens(context);
    const issuedB = await captureIssuedTokens(other);
    const pageB = await other.newPage();
    await openApp(page, a);
    await login(page);
    await openApp(pageB, b);
    await login(pageB);
    await run({ a, b, other, pageB, issuedA, issuedB });
  } finally {
    await other.close();
    await Promise.all([a.close(), b.close()]);
  }
}

const REVOKED = { status: 401, body: { error: 'token_revoked' } };

test('sign out in one browser through instance A: a copy of its access token is refused at once on instance B; the other browser goes on', async ({ browser, context, page }) => {
  await twoBrowsersSignedIn(browser, context, page, async ({ a, b, pageB, issuedA, issuedB }) => {
    const copied = issuedA.at(-1)!;
    // Before: the copy works on the other instance, as any valid token does.
    expect(await replay(b, copied)).toMatchObject({ status: 200, body: { sub: 'alice' } });

    await page.evaluate(() => window.tokenBroker.logout());
    expect(await replay(b, copied)).toMatchObject(REVOKED);
    expect(await replay(a, copied)).toMatchObject(REVOKED);
    // The same account's other session is not ended by this sign-out.
    expect(await replay(b, issuedB.at(-1)!)).toMatchObject({ status: 200 });
    expect((await apiFetch(pageB, '/api/me')).body).toMatchObject({ sub: 'alice' });
    expect(b.stats.apiUnauthorized).toBe(1);
  });
});

test('sign out everywhere through instance A: the other browser\'s still-valid token is refused at once on instance B, and that browser is signed out', async ({ browser, context, page }) => {
  await twoBrowsersSignedIn(browser, context, page, async ({ b, other, pageB, issuedA, issuedB }) => {
    expect((await apiFetch(pageB, '/api/me')).status).toBe(200);
    const answersB = await recordApiAnswers(other);

    expect(await apiFetch(page, '/api/sessions/revoke-all', { method: 'POST' })).toMatchObject({ status: 200, body: { revoked: 2 } });
    // Both sessions' tokens, copied out of either browser, are refused by B at once.
    expect(await replay(b, issuedB.at(-1)!)).toMatchObject(REVOKED);
    expect(await replay(b, issuedA.at(-1)!)).toMatchObject(REVOKED);

    // The other browser's own next request: its worker's token is refused (token_revoked), its one refresh
    // is refused too (the family is revoked), so the session ends and the page sees the server's 401.
    expect((await apiFetch(pageB, '/api/me')).status).toBe(401);
    expect(answersB[0]).toEqual({ status: 401, error: 'token_revoked', authorized: true });
    expect(answersB.every((r) => r.status === 401)).toBe(true);
    expect((await status(pageB)).authenticated).toBe(false);
  });
});

test('reuse detected through instance A: a copy of the revoked family\'s access token is refused at once on instance B', async ({ context, page }) => {
  const [a, b] = await startInstances();
  try {
    const issued = await captureIssuedTokens(context);
    await openApp(page, a);
    await login(page);
    const cookie = async () => (await context.cookies(`${a.url}/auth/refresh`)).find((c) => c.name === COOKIE)!.value;
    const stolen = await cookie();
    await page.evaluate(() => window.tokenBroker.refresh());
    const copied = issued.at(-1)!;
    expect(await replay(b, copied)).toMatchObject({ status: 200 });

    // The refresh token the browser rotated away from, replayed after the grace window: reuse, the family ends.
    await page.waitForTimeout(GRACE_SECONDS * 1000 + 500);
    const reuse = await fetch(`${a.url}/auth/refresh`, { method: 'POST', headers: { ...WORKER_HEADERS, origin: a.url, cookie: `${COOKIE}=${stolen}` } });
    expect(reuse.status).toBe(401);
    expect(await replay(b, copied)).toMatchObject(REVOKED);
    expect(await replay(b, issued[0]!)).toMatchObject(REVOKED);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
