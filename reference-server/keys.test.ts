import { expect, test } from '@playwright/test';
import { exportJWK, generateKeyPair } from 'jose';
import { buildServer, type BrokerServer } from './app';
import { BEARER_TEST_SETTINGS } from './test-settings';

const SAME_ORIGIN = { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin' };

async function privateJwk(): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return JSON.stringify(await exportJWK(privateKey));
}

const servers: BrokerServer[] = [];
async function server(signingKey: string) {
  const s = await buildServer({ ...BEARER_TEST_SETTINGS, signingKey });
  servers.push(s);
  return s;
}
test.afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.app.close()));
});

async function accessToken(s: BrokerServer): Promise<string> {
  const res = await s.app.inject({ method: 'POST', url: '/auth/login', headers: SAME_ORIGIN, payload: { username: 'bob', password: 'builder' } });
  return (res.json() as { access_token: string }).access_token;
}

test('servers sharing SIGNING_KEY accept each other\'s access tokens and publish the same kid', async () => {
  const key = await privateJwk();
  const [a, b, other] = [await server(key), await server(key), await server('')];
  const token = await accessToken(a);
  const me = (s: BrokerServer) => s.app.inject({ url: '/api/me', headers: { authorization: `Bearer ${token}` } });
  expect((await me(b)).json()).toMatchObject({ sub: 'bob' });
  expect((await me(other)).statusCode).toBe(401);
  const kids = async (s: BrokerServer) => (await s.app.inject({ url: '/.well-known/jwks.json' })).json().keys.map((k: { kid: string }) => k.kid);
  expect(await kids(a)).toEqual(await kids(b));
  // The published key is public: the private part of SIGNING_KEY never leaves.
  expect(JSON.stringify((await a.app.inject({ url: '/.well-known/jwks.json' })).json())).not.toContain('"d"');
});

test('a SIGNING_KEY that is not a private P-256 JWK is a settings error', async () => {
  const { publicKey } = await generateKeyPair('ES256', { extractable: true });
  await expect(server('{nope')).rejects.toThrow(/SIGNING_KEY: expected a private JWK as JSON/);
  await expect(server(JSON.stringify(await exportJWK(publicKey)))).rejects.toThrow(/SIGNING_KEY: expected a private EC P-256 JWK/);
  const rsa = await generateKeyPair('RS256', { extractable: true });
  await expect(server(JSON.stringify(await exportJWK(rsa.privateKey)))).rejects.toThrow(/SIGNING_KEY/);
});
