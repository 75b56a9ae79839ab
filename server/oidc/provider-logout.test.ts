// The provider's half of a logout never decides the local half: a metadata
// openid-client will not build a logout URL from, or a provider half that
// throws, still ends the session here.
import { expect, test } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { createTokenBroker } from '../core/token-broker';
import type { BrokerHttpRequest } from '../core/http';
import { memoryStore } from '../store/memory';
import { providerLogout } from './provider-logout';
import { upstreamSeal } from './upstream-seal';

const ORIGIN = 'http://127.0.0.1:8080';
const post = (url: string, headers: Record<string, string> = {}, body: unknown = {}): BrokerHttpRequest => ({
  method: 'POST', url, origin: ORIGIN, headers: { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin', origin: ORIGIN, ...headers }, body, ip: '10.0.0.1',
});

test('an end_session_endpoint openid-client refuses (plain http at an https provider): no logout URL, and the refresh token is still handed to the revocation', async () => {
  const seal = upstreamSeal(randomBytes(32).toString('base64url'));
  const sealed = await seal.seal({ accessToken: 'at', tokenType: 'Bearer', expiresAt: 0, refreshToken: 'rt-1' });
  const records = { familyOf: async () => 'f1', read: async () => sealed, lease: async () => true, release: async () => true };
  const revoked: string[] = [];
  const config = new oidc.Configuration(
    { issuer: 'https://op.example', end_session_endpoint: 'http://op.example/logout', revocation_endpoint: 'https://op.example/revoke' },
    'client',
    undefined,
    oidc.None(),
  );
  const half = await providerLogout('f1', records, seal, async () => config, { clientId: 'client' }, Date.now);
  expect(half.logoutUrl).toBeUndefined();
  // The revocation goes out (and fails quietly: nothing listens there).
  const fetching = globalThis.fetch;
  globalThis.fetch = (async (_url: unknown, init?: { body?: unknown }) => {
    revoked.push(String(new URLSearchParams(String(init?.body)).get('token')));
    return new Response(null, { status: 200 });
  }) as typeof fetch;
  try {
    await half.finish();
  } finally {
    globalThis.fetch = fetching;
  }
  expect(revoked).toEqual(['rt-1']);
});

test("the provider's half of a logout throwing: the logout still revokes the session here and answers 200", async () => {
  const broker = await createTokenBroker({ verifyCredentials: (c) => (typeof c.username === 'string' ? { sub: c.username } : null), store: memoryStore(), refreshSecret: randomBytes(32).toString('base64url') });
  try {
    broker.attachUpstream({
      grant: async () => null,
      loggingOut: async () => {
        throw new TypeError('Invalid URL');
      },
    });
    const login = await broker.login(post('/auth/login', {}, { username: 'alice' }));
    const cookie = login.cookies[0]!.split(';')[0]!;
    const out = await broker.logout(post('/auth/logout', { cookie }));
    expect({ status: out.status, body: out.body }).toEqual({ status: 200, body: { ok: true } });
    expect((await broker.refresh(post('/auth/refresh', { cookie }))).status).toBe(401);
  } finally {
    await broker.close();
  }
});
