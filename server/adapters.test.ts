// The backend contract through each adapter, over real HTTP: the same suite
// for the Fastify plugin and the Express router, so both are tested to the
// same depth. The core does the work; these tests prove the adapters pass
// everything through (status, headers, cookies, bodies, errors).
import { expect, test } from '@playwright/test';
import express from 'express';
import Fastify from 'fastify';
import { decodeJwt } from 'jose';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Account } from './tokens/access-tokens';
import { createTokenBroker, type TokenBrokerServerOptions, type TokenBrokerServer } from './core/token-broker';
import { requireAccessToken as expressGuard, tokenBrokerRouter, tokenClaims } from './express/router';
import { requireAccessToken as fastifyGuard, tokenBroker, tokenClaims as fastifyClaims } from './fastify/plugin';
import { memoryStore } from './store/memory';
import { newDpopKey, signProof } from '../test-support/dpop-client';

const WORKER = { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' };
// The default cookie of local development (the worker's Origin is http://127.0.0.1:port): no Secure, no prefix (Safari refuses Secure there).
const COOKIE = 'broker_rt';

interface Running {
  url: string;
  broker: TokenBrokerServer;
  checks: () => number;
  close(): Promise<void>;
}

async function verifyCredentials(credentials: Record<string, unknown>): Promise<Account | null> {
  return credentials.username === 'alice' && credentials.password === 'wonderland' ? { sub: 'alice', claims: { name: 'Alice', role: 'reader' } } : null;
}

type Adapter = (options: Partial<TokenBrokerServerOptions>) => Promise<Running>;

const adapters: Record<string, Adapter> = {
  fastify: async (options) => {
    let checks = 0;
    const broker = await createTokenBroker({ verifyCredentials, store: memoryStore(), onEvent: (e) => void (e === 'password_check' && checks++), ...options });
    const app = Fastify();
    await app.register(tokenBroker, { broker });
    app.get('/api/me', { preHandler: fastifyGuard(broker) }, async (request) => ({ sub: fastifyClaims(request).sub, name: fastifyClaims(request).name }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, broker, checks: () => checks, close: () => app.close() };
  },
  express: async (options) => {
    let checks = 0;
    const broker = await createTokenBroker({ verifyCredentials, store: memoryStore(), onEvent: (e) => void (e === 'password_check' && checks++), ...options });
    const app = express();
    app.use(tokenBrokerRouter(broker));
    app.get('/api/me', expressGuard(broker), (_req, res) => void res.json({ sub: tokenClaims(res).sub, name: tokenClaims(res).name }));
    const server = await new Promise<HttpServer>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      broker,
      checks: () => checks,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  },
};

const cookieOf = (res: Response) => /(?<![\w-])broker_rt=([^;]*)/.exec(res.headers.getSetCookie().join('\n'))?.[1];

for (const [name, start] of Object.entries(adapters)) {
  test.describe(`the ${name} adapter`, () => {
    let server: Running;
    const open = async (options: Partial<TokenBrokerServerOptions> = {}) => (server = await start(options));
    test.afterEach(async () => server?.close());

    const post = (path: string, init: { body?: string; headers?: Record<string, string>; cookie?: string } = {}) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { ...WORKER, origin: server.url, ...(init.cookie && { cookie: `${COOKIE}=${init.cookie}` }), ...init.headers },
        body: init.body ?? '{}',
      });
    const login = (password = 'wonderland') => post('/auth/login', { body: JSON.stringify({ username: 'alice', password }) });

    test('login: the token body, an HttpOnly Strict cookie scoped to /auth (Secure but on loopback http); a token the guard takes; 401 for wrong credentials', async () => {
      await open();
      const res = await login();
      expect(res.status).toBe(200);
      const body = (await res.json()) as { access_token: string };
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
      expect(decodeJwt(body.access_token)).toMatchObject({ sub: 'alice', name: 'Alice', role: 'reader' });
      expect(res.headers.get('cache-control')).toBe('no-store');
      const setCookie = res.headers.getSetCookie().join('\n');
      expect(setCookie).toMatch(/^broker_rt=[A-Za-z0-9_-]{43};/);
      for (const attribute of ['HttpOnly', 'SameSite=Strict', 'Path=/auth']) expect(setCookie).toContain(attribute);
      expect(setCookie).not.toContain('Secure');
      const me = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${body.access_token}` } });
      expect(await me.json()).toEqual({ sub: 'alice', name: 'Alice' });
      // The guard never reads cookies: the refresh cookie (which reaches every route when it is __Host-) is no credential there.
      const cookieOnly = await fetch(`${server.url}/api/me`, { headers: { cookie: `${COOKIE}=${cookieOf(res)!}; __Host-Http-broker_rt=${cookieOf(res)!}` } });
      expect(cookieOnly.status).toBe(401);
      expect((await login('wrong')).status).toBe(401);
      expect(await (await login('wrong')).json()).toMatchObject({ error: 'invalid_credentials' });
    });

    test('refresh rotates the cookie and keeps the claims; a rotated token replayed after the grace window ends the family', async () => {
      await open({ rotationGraceSeconds: 0 });
      const first = cookieOf(await login())!;
      const refreshed = await post('/auth/refresh', { cookie: first });
      expect(refreshed.status).toBe(200);
      expect(decodeJwt(((await refreshed.json()) as { access_token: string }).access_token)).toMatchObject({ sub: 'alice', name: 'Alice' });
      const second = cookieOf(refreshed)!;
      expect(second).not.toBe(first);
      await new Promise((r) => setTimeout(r, 5));
      const replay = await post('/auth/refresh', { cookie: first });
      expect(replay.status).toBe(401);
      expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
      expect((await post('/auth/refresh', { cookie: second })).status).toBe(401);
    });

    test('a refresh with no cookie (a first visit) is the quiet event no_session; an unknown cookie is refresh_rejected', async () => {
      const events: string[] = [];
      await open({ onEvent: (e) => void events.push(e) });
      const first = await post('/auth/refresh');
      expect(first.status).toBe(401);
      expect(await first.json()).toMatchObject({ error: 'invalid_grant' });
      expect(events).toEqual(['no_session']);
      expect((await post('/auth/refresh', { cookie: 'A'.repeat(43) })).status).toBe(401);
      expect(events).toEqual(['no_session', 'refresh_rejected']);
    });

    test('logout revokes the family and clears the cookie', async () => {
      await open();
      const cookie = cookieOf(await login())!;
      const out = await post('/auth/logout', { cookie });
      expect(out.status).toBe(200);
      expect(out.headers.getSetCookie().join()).toMatch(/^broker_rt=;.*Expires=Thu, 01 Jan 1970/);
      expect((await post('/auth/refresh', { cookie })).status).toBe(401);
    });

    test('a login revokes the session whose cookie it replaces; a wrong password revokes nothing', async () => {
      await open();
      const first = cookieOf(await login())!;
      expect((await post('/auth/login', { cookie: first, body: JSON.stringify({ username: 'alice', password: 'typo' }) })).status).toBe(401);
      const kept = await post('/auth/refresh', { cookie: first });
      expect(kept.status).toBe(200);
      const current = cookieOf(kept)!;
      const second = await post('/auth/login', { cookie: current, body: JSON.stringify({ username: 'alice', password: 'wonderland' }) });
      expect(second.status).toBe(200);
      // Nothing holds the old cookie now but a copy: it refreshes nothing.
      expect((await post('/auth/refresh', { cookie: current })).status).toBe(401);
      expect((await post('/auth/refresh', { cookie: cookieOf(second)! })).status).toBe(200);
    });

    test('the CSRF guard, cookie tossing and non-canonical paths are refused, and change nothing', async () => {
      await open();
      const cookie = cookieOf(await login())!;
      expect((await post('/auth/refresh', { cookie, headers: { 'x-token-broker': '' } })).status).toBe(403);
      expect((await post('/auth/refresh', { cookie, headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
      const tossed = await fetch(`${server.url}/auth/refresh`, { method: 'POST', headers: { ...WORKER, origin: server.url, cookie: `${COOKIE}=${'A'.repeat(43)}; ${COOKIE}=${cookie}` }, body: '{}' });
      expect(tossed.status).toBe(400);
      expect(await tossed.json()).toMatchObject({ error: 'duplicate_cookie' });
      expect(tossed.headers.getSetCookie()).toEqual([]);
      expect((await post('/%61uth/refresh', { cookie })).status).toBe(404);
      // Nothing above rotated the token.
      expect((await post('/auth/refresh', { cookie })).status).toBe(200);
    });

    test('bad input is a 4xx JSON error, never a 500: malformed, deep, oversized and non-object bodies', async () => {
      await open();
      const cases = [
        { body: '{"username":', status: 400 },
        { body: '[1,2]', status: 400 },
        { body: '"alice"', status: 400 },
        { body: `{"username":${'['.repeat(5_000)}${']'.repeat(5_000)}}`, status: 400 },
        { body: JSON.stringify({ username: 'alice', password: 'x'.repeat(100_000) }), status: 413 },
        { body: JSON.stringify({ password: 'wonderland' }), status: 400 },
      ];
      for (const c of cases) {
        const res = await post('/auth/login', { body: c.body });
        expect(res.status, c.body.slice(0, 30)).toBe(c.status);
        expect(((await res.json()) as { error: string }).error, c.body.slice(0, 30)).toMatch(/^[a-z_]+$/);
      }
    });

    test('the API guard: 401 with a challenge without a token; a DPoP-bound token is refused as bearer and taken with its proof', async () => {
      await open({ dpop: 'optional', dpopNonce: false });
      const missing = await fetch(`${server.url}/api/me`);
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toContain('Bearer error="invalid_token"');
      const key = await newDpopKey();
      const res = await post('/auth/login', {
        body: JSON.stringify({ username: 'alice', password: 'wonderland' }),
        headers: { dpop: await signProof(key, { htm: 'POST', htu: `${server.url}/auth/login` }) },
      });
      const { access_token: token, token_type: type } = (await res.json()) as { access_token: string; token_type: string };
      expect(type).toBe('DPoP');
      const url = `${server.url}/api/me`;
      expect((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
      const proof = await signProof(key, { htm: 'GET', htu: url, accessToken: token });
      expect((await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: proof } })).status).toBe(200);
    });

    test('by default DPoP is off: a bearer setup gets no DPoP-Nonce header and no DPoP challenge, and a proof sent anyway binds nothing', async () => {
      await open();
      const missing = await fetch(`${server.url}/api/me`);
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).not.toContain('DPoP');
      const key = await newDpopKey();
      const res = await post('/auth/login', {
        body: JSON.stringify({ username: 'alice', password: 'wonderland' }),
        headers: { dpop: await signProof(key, { htm: 'POST', htu: `${server.url}/auth/login` }) },
      });
      const body = (await res.json()) as { access_token: string; token_type: string };
      expect(body.token_type).toBe('Bearer');
      expect(res.headers.get('dpop-nonce')).toBeNull();
      const me = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${body.access_token}` } });
      expect(me.status).toBe(200);
      expect(me.headers.get('dpop-nonce')).toBeNull();
    });

    test('30 concurrent guesses at one account: only the per-account limit is checked', async () => {
      await open({ limits: { perAccount: 5, perIp: 1_000 } });
      const statuses = await Promise.all(Array.from({ length: 30 }, () => login('wrong').then((r) => r.status)));
      expect(server.checks()).toBe(5);
      expect(statuses.filter((s) => s === 429)).toHaveLength(25);
    });

    test('sliding renewal in the header the options name, and the JWKS that verifies the tokens', async () => {
      await open({ renewHeader: 'x-renewed-token', accessTokenTtl: 4 });
      const { access_token: token } = (await (await login()).json()) as { access_token: string };
      // Past half of its life (exp has whole seconds: 0.9 to 1.9 s left).
      await new Promise((r) => setTimeout(r, 2_100));
      const me = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(decodeJwt(me.headers.get('x-renewed-token')!)).toMatchObject({ sub: 'alice', name: 'Alice' });
      const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
      expect(jwks.keys.map((k) => k.kid)).toContain(server.broker.keys.current.kid);
    });
  });
}
