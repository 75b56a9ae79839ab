// Redirect sign-in under DPoP (sw-dpop.js): the worker starts the sign-in with its
// key's proof (a POST to the start route), the start route seals the key's
// thumbprint in the round-trip cookie, and the callback binds the new family to
// it, so a broker with `dpop: 'required'` refreshes it and only that key can.
// And the attacks on it: a navigation to the start route without the worker (a
// cross-site link, or page script), and a callback (with its round-trip cookie)
// replayed into another browser.
import { test as base, expect, type Request } from '@playwright/test';
import { calculateJwkThumbprint, decodeProtectedHeader, type JWK } from 'jose';
import { me, open, ready, redirectSignIn, signInError, startOidcApp, status, stopAtCallback, type OidcApp } from './support/oidc-app';

const test = base.extend<{ dpopMode: 'optional' | 'required'; app: OidcApp }>({
  dpopMode: ['required', { option: true }],
  app: async ({ dpopMode }, use) => {
    const app = await startOidcApp({ dpop: dpopMode });
    await use(app);
    await app.close();
  },
});

const thumbprintOf = (proof: string) => calculateJwkThumbprint(decodeProtectedHeader(proof).jwk as JWK);

test('dpop required: the worker starts the sign-in with its proof, the session is bound to its key, API calls and a refresh work', async ({ context, page, app }) => {
  const sent: Request[] = [];
  // context.route sees the worker's own requests.
  await context.route(/\/auth\/(oidc\/start|refresh)(\?|$)|\/api\/me$/, async (route) => {
    sent.push(route.request());
    await route.continue();
  });
  await open(page, `${app.url}/`);
  await redirectSignIn(page, app, '/?tab=orders');
  expect((await signInError(page))).toBeNull();
  const session = await status(page);
  expect(session.authenticated).toBe(true);
  expect(session.claims.sub).toBe(`${app.provider.issuer}#${app.provider.subject}`);

  // The start was the worker's POST with a proof; no navigation to the start route.
  const starts = sent.filter((r) => new URL(r.url()).pathname === '/auth/oidc/start');
  expect(starts.map((r) => r.method())).toEqual(expect.arrayContaining(['POST']));
  expect(starts.every((r) => r.method() === 'POST')).toBe(true);
  const startProof = starts.at(-1)!.headers()['dpop']!;
  expect(startProof).toBeTruthy();
  const key = await thumbprintOf(startProof);

  const answer = await me(page);
  expect(answer.status).toBe(200);
  const api = sent.filter((r) => r.url().endsWith('/api/me')).at(-1)!;
  expect(api.headers()['authorization']).toMatch(/^DPoP /);
  expect(await thumbprintOf(api.headers()['dpop']!)).toBe(key);

  expect((await page.evaluate(() => window.tokenBroker.refresh())).claims.sub).toBe(`${app.provider.issuer}#${app.provider.subject}`);
  // The first visit's refresh (no cookie yet) was signed with a key the worker dropped with its 401.
  const refreshes = sent.slice(sent.indexOf(starts.at(-1)!)).filter((r) => r.url().endsWith('/auth/refresh'));
  expect(refreshes.length).toBeGreaterThan(1);
  for (const r of refreshes) expect(await thumbprintOf(r.headers()['dpop']!)).toBe(key);
  expect(app.server.stats.refreshRejected).toBe(0);
});

test('dpop required: a navigation to the start route (a link from another site, or page script without the worker) is dpop_required, and no trip to the provider', async ({ page, app }) => {
  await open(page, `${app.url}/`);
  const toProvider: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).origin === app.provider.issuer) toProvider.push(r.url());
  });
  await page.goto(`${app.url}/auth/oidc/start?returnTo=%2F`);
  await ready(page);
  expect(new URL(page.url()).origin).toBe(app.url);
  expect(await signInError(page)).toBe('dpop_required');
  expect(toProvider).toEqual([]);
  expect((await status(page)).authenticated).toBe(false);
  expect(app.server.stats.login).toBe(0);
});

test('dpop required: page script in a page the worker controls cannot start a sign-in bound to a key of its own: its POST to the start route never leaves the worker', async ({ page, app }) => {
  await open(page, `${app.url}/`);
  const answer = await page.evaluate(async () => {
    // The attacker's own key (extractable: it can be sent away), and a valid proof of it for the start route.
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
    const url = `${location.origin}/auth/oidc/start`;
    const b64 = (data: string | ArrayBuffer) =>
      btoa(typeof data === 'string' ? data : String.fromCharCode(...new Uint8Array(data))).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const proof = async (nonce: string | null) => {
      const input = `${b64(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } }))}.${b64(
        JSON.stringify({ htm: 'POST', htu: url, iat: Math.floor(Date.now() / 1000), jti: crypto.randomUUID(), ...(nonce ? { nonce } : {}) }),
      )}`;
      return `${input}.${b64(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, new TextEncoder().encode(input)))}`;
    };
    const call = async (nonce: string | null) => {
      const res = await fetch(url, { method: 'POST', headers: { 'x-token-broker': '1', 'content-type': 'application/json', dpop: await proof(nonce) }, body: '{"returnTo":"/"}' });
      return { status: res.status, body: (await res.json()) as { error?: string | { code?: string }; location?: string }, nonce: res.headers.get('dpop-nonce') };
    };
    let got = await call(null);
    if (got.body.error === 'use_dpop_nonce') got = await call(got.nonce);
    return got;
  });
  // Without the reservation the server answers 200 with the provider's URL for a sign-in bound to that key.
  expect(answer.status).toBe(403);
  expect(answer.body.error).toMatchObject({ code: 'endpoint_reserved' });
  expect(answer.body.location).toBeUndefined();
  expect(app.server.stats.login).toBe(0);
});

for (const dpopMode of ['required', 'optional'] as const) {
  test.describe(`dpop ${dpopMode}`, () => {
    test.use({ dpopMode });
    test('a callback replayed into another browser with its round-trip cookie: that browser\'s worker cannot refresh the family, bound to the first browser\'s key', async ({ browser, page, app }) => {
      await open(page, `${app.url}/`);
      const { callback, cookie } = await stopAtCallback(page, app);
      // The attacker's browser: its own worker, its own key, this browser's callback and cookie.
      const other = await browser.newContext();
      try {
        const attacker = await other.newPage();
        await open(attacker, `${app.url}/`);
        await other.addCookies([{ ...cookie, url: app.url }]);
        const rejectedBefore = app.server.stats.refreshRejected;
        await attacker.goto(callback);
        await ready(attacker);
        // The callback itself went through (the code and the cookie are good): a family was started, for the victim's key.
        expect(await signInError(attacker)).toBeNull();
        expect(app.server.stats.login).toBe(1);
        expect((await status(attacker)).authenticated).toBe(false);
        expect((await me(attacker)).status).toBe(401);
        // Refused as another key's family, not as a missing cookie.
        expect(app.server.stats.refreshRejected).toBeGreaterThan(rejectedBefore);
      } finally {
        await other.close();
      }
    });
  });
}
