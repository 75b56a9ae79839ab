// An ID token issued to another client of the same provider, in the token
// response of a real sign-in in Chromium: a proxy in front of the provider's
// token endpoint (in this process, where the app's server runs: its calls to
// the provider go through the global fetch) swaps the id_token for one the
// provider really issued to its other client, for the same user and the
// sign-in's own nonce. Only the audience is wrong: the callback must answer
// id_token_invalid and start no session and no family.
import { test as base, expect } from '@playwright/test';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { me, open, redirectSignIn, signInError, startOidcApp, status, type OidcApp } from './support/oidc-app';

const test = base.extend<{ app: OidcApp }>({
  // eslint-disable-next-line no-empty-pattern -- Playwright requires a destructuring pattern for the fixtures
  app: async ({}, use) => {
    const app = await startOidcApp({ dpop: 'required' });
    await use(app);
    await app.close();
  },
});

/** A code flow of the provider's other client, driven from Node (its interaction completes itself): that client's ID token. */
async function idTokenOfOtherClient(app: OidcApp, nonce: string, send: typeof fetch): Promise<string> {
  const { otherClient } = app.provider;
  const config = await oidc.discovery(new URL(app.provider.issuer), otherClient.clientId, otherClient.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
  const redirect = otherClient.redirectUris[0]!;
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  let url = oidc.buildAuthorizationUrl(config, { redirect_uri: redirect, scope: 'openid', state, nonce, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
  const jar = new Map<string, string>();
  while (!url.href.startsWith(redirect)) {
    const response = await send(url, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0] ?? '';
      jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    url = new URL(response.headers.get('location')!, url);
  }
  const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  return tokens.id_token!;
}

test('an ID token issued to another client of the provider: id_token_invalid, no session, no family', async ({ page, app }) => {
  const original = globalThis.fetch;
  const tokenEndpoint = `${app.provider.issuer}/token`;
  const parEndpoint = `${app.provider.issuer}/request`;
  let nonce = '';
  let swapped = 0;
  const audiences: unknown[] = [];
  globalThis.fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    // The app's pushed authorization request names the sign-in's nonce.
    if (url === parEndpoint && typeof init?.body !== 'undefined') nonce = new URLSearchParams(String(init.body)).get('nonce') ?? '';
    const response = await original(input, init);
    if (url !== tokenEndpoint || !nonce) return response;
    const body = (await response.json()) as Record<string, unknown>;
    // Taken first: the other client's own token request passes through this proxy untouched.
    const asked = nonce;
    nonce = '';
    const idToken = await idTokenOfOtherClient(app, asked, original);
    swapped++;
    audiences.push(decodeJwt(idToken).aud, decodeJwt(String(body.id_token)).aud);
    const headers = new Headers(response.headers);
    headers.delete('content-length');
    return new Response(JSON.stringify({ ...body, id_token: idToken }), { status: response.status, headers });
  };
  try {
    await open(page, `${app.url}/`);
    await redirectSignIn(page, app);
  } finally {
    globalThis.fetch = original;
  }
  expect(swapped).toBe(1);
  // A real ID token of this provider, this user and this sign-in's nonce: only its audience is not the app's.
  expect(audiences).toEqual([app.provider.otherClient.clientId, app.provider.client.clientId]);
  expect(await signInError(page)).toBe('id_token_invalid');
  expect((await status(page)).authenticated).toBe(false);
  expect((await me(page)).status).toBe(401);
  // No family: the broker counts one login per family it starts, and the account has none live.
  expect(app.server.stats.login).toBe(0);
  expect(await app.server.broker.revokeUser(`${app.provider.issuer}#${app.provider.subject}`)).toBe(0);
});
