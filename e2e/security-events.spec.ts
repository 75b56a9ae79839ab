// The security events in Chromium against the reference app: a policy 'revoke' (here on a keyless
// refresh of the tab's DPoP-bound session, foreign_key) ends the session in the tab; a second browser
// context, with a DPoP key of its own, raises new_device; a stolen copy of a cookie the tab has since
// rotated raises reuse_detected and ends the tab's session.
import type { SecurityEvent } from '../server/entries/index';
import { expect, login, openApp, status, test } from './support/fixtures';

// The default cookie when the browser is on http to a loopback host.
const COOKIE = 'broker_rt';
const events: SecurityEvent[] = [];
const policy = (event: SecurityEvent) => (events.push(event), event.type === 'foreign_key' ? ('revoke' as const) : ('notify' as const));
test.beforeEach(() => {
  events.length = 0;
});

const THIEF_AGENT = 'thief/1.0';

/** A refresh from outside the browser (as a thief holding a copy of the cookie would), without a DPoP proof. */
function refreshFromElsewhere(url: string, token: string): Promise<Response> {
  return fetch(`${url}/auth/refresh`, {
    method: 'POST',
    headers: { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin', origin: url, cookie: `${COOKIE}=${token}`, 'user-agent': THIEF_AGENT },
  });
}

test.describe('policy revoke', () => {
  // DPoP optional: a refresh without a proof reaches the store, which answers wrong_key (foreign_key) for the tab's bound family.
  test.use({ serverOptions: { dpop: 'optional', dpopNonce: false }, serverParts: { securityEvents: { policy } } });

  test("a policy 'revoke' on a keyless refresh of the tab's session ends the session in the tab", async ({ context, page, server }) => {
    await openApp(page, server);
    await login(page);
    const token = (await context.cookies(`${server.url}/auth/refresh`)).find((c) => c.name === COOKIE)!.value;
    const foreign = await refreshFromElsewhere(server.url, token);
    expect(foreign.status).toBe(401);
    expect(await foreign.json()).toMatchObject({ error: 'session_revoked' });
    const signedIn = events[0] as Extract<SecurityEvent, { type: 'login' }>;
    expect(events.map((e) => e.type)).toEqual(['login', 'foreign_key', 'family_revoked']);
    expect(events[1]).toMatchObject({ sub: signedIn.sub, family: signedIn.family });

    // The store revoked the family: the tab's next refresh ends its session.
    expect(await page.evaluate(() => window.tokenBroker.refresh().then(() => null, (e: { code: string }) => e.code))).toBe('not_authenticated');
    expect((await status(page)).authenticated).toBe(false);
  });
});

test.describe('policy and devices', () => {
  test.use({ serverParts: { securityEvents: { policy } } });

  test('a second browser context (a new DPoP key) signing in raises new_device', async ({ browser, page, server }) => {
    await openApp(page, server);
    await login(page);
    expect(events.map((e) => e.type)).toEqual(['login']);
    const firstKey = (events[0] as Extract<SecurityEvent, { type: 'login' }>).device.jkt;
    expect(firstKey).toEqual(expect.any(String));

    const other = await browser.newContext();
    try {
      const page2 = await other.newPage();
      await openApp(page2, server);
      await login(page2);
      expect(events.map((e) => e.type)).toEqual(['login', 'login', 'new_device']);
      expect(events[2]).toMatchObject({ type: 'new_device', sub: (events[0] as Extract<SecurityEvent, { type: 'login' }>).sub, changed: ['key'] });
      const secondKey = (events[2] as Extract<SecurityEvent, { type: 'new_device' }>).device.jkt;
      expect(secondKey).toEqual(expect.any(String));
      expect(secondKey).not.toBe(firstKey);
      // Notify only: both sessions live on.
      expect((await status(page2)).authenticated).toBe(true);
      expect((await status(page)).authenticated).toBe(true);
    } finally {
      await other.close();
    }
  });
});

test.describe('reuse detected', () => {
  // Bearer tokens, so the stolen cookie is judged by rotation alone (a DPoP-bound one is refused as foreign_key first);
  // no grace window, so the copy is a reuse at once rather than a lost answer's retry.
  test.use({
    serverOptions: { dpop: 'optional', dpopNonce: false, rotationGraceSeconds: 0, workerConfig: { dpop: false } },
    serverParts: { securityEvents: { policy } },
  });

  test('a copy of a cookie the tab has since rotated, replayed elsewhere, raises reuse_detected with the thief\'s device and ends the session in the tab', async ({ context, page, server }) => {
    await openApp(page, server);
    await login(page);
    const stolen = (await context.cookies(`${server.url}/auth/refresh`)).find((c) => c.name === COOKIE)!.value;
    // The tab rotates it: the copy is now a used token.
    await page.evaluate(() => window.tokenBroker.refresh());
    const rotated = (await context.cookies(`${server.url}/auth/refresh`)).find((c) => c.name === COOKIE)!.value;
    expect(rotated).not.toBe(stolen);
    expect(events.map((e) => e.type)).toEqual(['login']);

    const replay = await refreshFromElsewhere(server.url, stolen);
    expect(replay.status).toBe(401);
    const signedIn = events[0] as Extract<SecurityEvent, { type: 'login' }>;
    expect(events.map((e) => e.type)).toEqual(['login', 'reuse_detected', 'family_revoked']);
    expect(events[1]).toMatchObject({ sub: signedIn.sub, family: signedIn.family, device: { jkt: null, userAgent: THIEF_AGENT } });
    expect(events[2]).toMatchObject({ sub: signedIn.sub, family: signedIn.family, reason: 'reuse' });
    expect(JSON.stringify(events)).not.toContain(stolen);

    // The store revoked the family, so the cookie the tab holds is worth nothing either.
    expect(await page.evaluate(() => window.tokenBroker.refresh().then(() => null, (e: { code: string }) => e.code))).toBe('not_authenticated');
    expect((await status(page)).authenticated).toBe(false);
  });
});
