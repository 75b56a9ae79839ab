// Which refresh cookie a request gets with `cookieSecure: 'auto'`: local
// development is what the browser says (an http Origin to a loopback host),
// never the Host header alone, which a proxy may have rewritten.
import { expect, test } from '@playwright/test';
import express from 'express';
import { once } from 'node:events';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tokenBrokerRouter } from '../express/router';
import { memoryStore } from '../store/memory';
import { refreshCookieName, secureCookieFor } from './cookie-security';
import { OptionError } from './errors';
import { createTokenBroker } from './token-broker';

const request = (origin: string, browserOrigin?: string) => ({ origin, headers: browserOrigin === undefined ? {} : { origin: browserOrigin } });

test('auto: no Secure only when the Origin header and the derived origin are both plain http to a loopback host', () => {
  const table: [derived: string, browser: string | undefined, secure: boolean][] = [
    ['http://localhost:8080', 'http://localhost:8080', false],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080', false],
    ['http://app.site.localhost:8080', 'http://app.site.localhost:8080', false],
    ['http://[::1]:8080', 'http://[::1]:8080', false],
    // Not a browser (curl, server to server): no Origin, so nothing says this is development.
    ['http://localhost:8080', undefined, true],
    // A proxy rewrote Host to its upstream; the browser was on https.
    ['http://127.0.0.1:3000', 'https://app.example.test', true],
    ['http://127.0.0.1:3000', 'https://localhost', true],
    ['http://127.0.0.1:3000', 'http://app.example.test', true],
    ['http://127.0.0.1:3000', 'null', true],
    ['http://127.0.0.1:3000', 'not a url', true],
    // The browser on loopback http, but the server reached as something else.
    ['https://localhost:8443', 'http://localhost:8080', true],
    ['http://app.example.test', 'http://localhost:8080', true],
    ['http://10.0.0.5', 'http://10.0.0.5', true],
    ['http://localhost.example', 'http://localhost.example', true],
  ];
  for (const [derived, browser, secure] of table) expect(secureCookieFor('auto', request(derived, browser)), `${derived} / ${browser}`).toBe(secure);
  // An explicit setting is not second-guessed.
  expect(secureCookieFor(true, request('http://localhost', 'http://localhost'))).toBe(true);
  expect(secureCookieFor(false, request('https://app.example.test', 'https://app.example.test'))).toBe(false);
  expect([refreshCookieName(true), refreshCookieName(false)]).toEqual(['__Host-Http-broker_rt', 'broker_rt']);
});

test('cookieNameFor(request) follows the same rule', async () => {
  const broker = await createTokenBroker({ verifyCredentials: () => null, store: memoryStore() });
  expect(broker.cookieNameFor(request('http://localhost:8080', 'http://localhost:8080'))).toBe('broker_rt');
  expect(broker.cookieNameFor(request('http://127.0.0.1:3000', 'https://app.example.test'))).toBe('__Host-Http-broker_rt');
  expect(broker.cookieName).toBe('__Host-Http-broker_rt');
  await broker.close();
});

test("NODE_ENV=production refuses cookieSecure 'auto' (the default) by name, and takes true or false", async () => {
  const before = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    for (const cookieSecure of [undefined, 'auto'] as const) {
      const creating = createTokenBroker({ verifyCredentials: () => null, store: memoryStore(), cookieSecure });
      await expect(creating).rejects.toThrow(OptionError);
      await expect(creating).rejects.toThrow(/^cookieSecure: .*NODE_ENV=production.*true behind https.*false only for a plain-http intranet/);
    }
    for (const cookieSecure of [true, false]) await (await createTokenBroker({ verifyCredentials: () => null, store: memoryStore(), cookieSecure })).close();
  } finally {
    if (before === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = before;
  }
});

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

test("auto behind a proxy that rewrites Host to its upstream (nginx's proxy_pass http://127.0.0.1:PORT): an https browser gets Secure and the __Host- name", async () => {
  const broker = await createTokenBroker({ verifyCredentials: () => ({ sub: 'alice' }), store: memoryStore() });
  const app = express();
  // The adopter's defaults: Express trusts no proxy, so it sees http and the rewritten Host.
  app.use(tokenBrokerRouter(broker));
  const upstream = createServer(app);
  const upstreamPort = await listen(upstream);
  const proxy = createServer((req, res) => {
    const forwarded = httpRequest(
      { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${upstreamPort}`, 'x-forwarded-proto': 'https' } },
      (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(forwarded);
  });
  const proxyPort = await listen(proxy);
  try {
    const res = await fetch(`http://127.0.0.1:${proxyPort}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-token-broker': '1', 'sec-fetch-site': 'same-origin', origin: 'https://app.example.test' },
      body: JSON.stringify({ username: 'alice', password: 'x' }),
    });
    expect(res.status).toBe(200);
    const [cookie] = res.headers.getSetCookie();
    expect(cookie).toMatch(/^__Host-Http-broker_rt=[A-Za-z0-9_-]{43}; /);
    expect(cookie).toContain('; Secure');
    expect(cookie).toContain('; Path=/;');
    expect(cookie).not.toMatch(/Domain=/i);
  } finally {
    proxy.close();
    upstream.close();
    await broker.close();
  }
});
