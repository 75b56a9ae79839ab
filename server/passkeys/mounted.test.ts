// The passkey endpoints mounted by each adapter's `passkeys` option, over real HTTP: every
// step reaches createPasskeys with the body, the token and the CSRF rules; nothing else is mounted.
import { expect, test } from '@playwright/test';
import express from 'express';
import Fastify from 'fastify';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTokenBroker, type TokenBrokerServer } from '../core/token-broker';
import { tokenBrokerRouter } from '../express/router';
import { tokenBroker } from '../fastify/plugin';
import { memoryStore } from '../store/memory';
import { createPasskeys, type PasskeyEndpoints } from './passkeys';
import { memoryPasskeyStore } from './store';

const WORKER = { 'x-token-broker': '1', 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' };

type Mount = (broker: TokenBrokerServer, passkeys: PasskeyEndpoints) => Promise<{ url: string; close(): Promise<void> }>;

const adapters: Record<string, Mount> = {
  fastify: async (broker, passkeys) => {
    const app = Fastify();
    await app.register(tokenBroker, { broker, passkeys });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
  },
  express: async (broker, passkeys) => {
    const app = express();
    app.use(tokenBrokerRouter(broker, { passkeys }));
    const server = await new Promise<HttpServer>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
  },
};

for (const [name, mount] of Object.entries(adapters)) {
  test(`the ${name} adapter mounts the passkey endpoints: each step answers, with the token and CSRF rules; other paths are not routes`, async () => {
    const broker = await createTokenBroker({ verifyCredentials: (c) => (c.password === 'wonderland' ? { sub: 'alice' } : null), store: memoryStore(), dpop: 'off' });
    const passkeys = createPasskeys(broker, { store: memoryPasskeyStore(), rpName: 'Test', rpID: 'localhost', origins: () => true });
    const server = await mount(broker, passkeys);
    try {
      const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(`${server.url}${path}`, { method: 'POST', headers: { ...WORKER, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
      const login = await post('/auth/login', { username: 'alice', password: 'wonderland' });
      const { access_token: token } = (await login.json()) as { access_token: string };
      const auth = { authorization: `Bearer ${token}` };
      expect(passkeys.paths).toHaveLength(6);
      const list = await post('/auth/passkey/list', {}, auth);
      expect(list.status).toBe(200);
      expect(await list.json()).toEqual({ passkeys: [] });
      const options = await post('/auth/passkey/register-options', {}, auth);
      expect(options.status).toBe(200);
      expect(((await options.json()) as { options: { rp: unknown } }).options.rp).toEqual({ name: 'Test', id: 'localhost' });
      // The body reaches the core: a malformed registration is its bad_request, a wrong password its invalid_credentials.
      expect(await (await post('/auth/passkey/register', { response: 'x' }, auth)).json()).toMatchObject({ error: 'bad_request' });
      const credential = { id: 'abc', rawId: 'abc', type: 'public-key', response: { clientDataJSON: 'e30', attestationObject: 'AA' } };
      const wrong = await post('/auth/passkey/register', { response: { credential, proof: { credentials: { username: 'alice', password: 'x' } } } }, auth);
      expect(wrong.status).toBe(403);
      expect(await wrong.json()).toMatchObject({ error: 'invalid_credentials' });
      expect((await post('/auth/passkey/step-up-options', {}, auth)).status).toBe(400);
      // No token, no CSRF header, a deep or malformed body: the core's JSON errors.
      expect((await post('/auth/passkey/list', {})).status).toBe(401);
      expect((await post('/auth/passkey/list', {}, { ...auth, 'x-token-broker': '' })).status).toBe(403);
      const deep = await post('/auth/passkey/list', '['.repeat(200) + ']'.repeat(200), auth);
      expect(deep.status).toBe(400);
      expect(await deep.json()).toMatchObject({ error: 'bad_request' });
      expect((await post('/auth/passkey/list', '{', auth)).status).toBe(400);
      expect((await post('/auth/passkey/other', {}, auth)).status).toBe(404);
      expect((await fetch(`${server.url}/auth/passkey/list`, { headers: auth })).status).toBe(404);
    } finally {
      await server.close();
      await broker.close();
    }
  });
}
