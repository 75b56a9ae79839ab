// The test provider itself, driven from Node with openid-client exactly as the
// broker's token-handler mode will drive it: discovery, code + PKCE + state +
// nonce, the code exchanged with the client secret, the ID token validated.
// If these fail, every OIDC test after them would fail for the harness's sake.
import { expect, test } from '@playwright/test';
import * as oidc from 'openid-client';
import { startTestOidcProvider, type TestOidcProvider } from '../../test-support/oidc-provider.js';

const REDIRECT = 'http://127.0.0.1:9/callback';
let provider: TestOidcProvider;

test.beforeAll(async () => {
  provider = await startTestOidcProvider({ redirectUris: [REDIRECT] });
});
test.afterAll(async () => { await provider.stop(); });

async function discover(): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(provider.issuer), provider.client.clientId, provider.client.clientSecret,
    undefined, { execute: [oidc.allowInsecureRequests] });
}

/** Follows the provider's redirects as a browser would (its cookies kept) until one leaves for the app. */
async function navigate(start: URL): Promise<URL> {
  const jar = new Map<string, string>();
  let url = start;
  for (let hop = 0; hop < 10; hop++) {
    if (url.href.startsWith(REDIRECT)) return url;
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0] ?? '';
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const location = response.headers.get('location');
    if (!location) throw new Error(`no redirect at ${url.href}: ${response.status} ${await response.text()}`);
    url = new URL(location, url);
  }
  throw new Error('too many redirects');
}

async function signIn(config: oidc.Configuration) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const start = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT, scope: 'openid email', state, nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const back = await navigate(start);
  return { back, verifier, state, nonce };
}

test('discovery, code with PKCE, state and nonce: an ID token for the user and a refresh token', async () => {
  const config = await discover();
  const { back, verifier, state, nonce } = await signIn(config);
  const tokens = await oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  expect(tokens.claims()?.sub).toBe(provider.subject);
  expect(tokens.refresh_token).toBeTruthy();
  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
  expect(refreshed.access_token).not.toBe(tokens.access_token);
});

test('a denied consent comes back as access_denied', async () => {
  const config = await discover();
  provider.nextInteraction = 'deny';
  try {
    const { back, verifier, state } = await signIn(config);
    const error = await oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(oidc.AuthorizationResponseError);
    expect((error as oidc.AuthorizationResponseError).error).toBe('access_denied');
  } finally {
    provider.nextInteraction = 'approve';
  }
});

test('a replayed code is refused by the provider', async () => {
  const config = await discover();
  const { back, verifier, state, nonce } = await signIn(config);
  await oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
  const error = await oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(oidc.ResponseBodyError);
  expect((error as oidc.ResponseBodyError).error).toBe('invalid_grant');
});

test('the provider down: discovery fails to connect, and comes back on the same issuer', async () => {
  await provider.stop();
  await expect(discover()).rejects.toThrow();
  await provider.start();
  expect((await discover()).serverMetadata().issuer).toBe(provider.issuer);
});
