// APIs on other origins (apiOrigins): the worker adds the token to CORS requests
// under a configured prefix of a configured origin, and to nothing else. The API
// and a third origin are plain Node servers on other loopback ports (another port
// is another origin) that log the Authorization header each request brought.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from '@playwright/test';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { STRICT_CSP } from '../reference-server/settings';
import { expect, login, openApp, test as base } from './support/fixtures';

interface Logged {
  method: string;
  path: string;
  authorization: string | null;
  dpop: string | null;
}

interface Origin {
  url: string;
  seen: Logged[];
  close(): Promise<void>;
}

/** A CORS API for the app's origin (which it learns per request): logs, answers JSON, redirects on /v1/redirect. */
async function startOrigin(redirectTo: () => string): Promise<Origin> {
  const seen: Logged[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const path = req.url ?? '/';
    const cors = { 'access-control-allow-origin': req.headers.origin ?? '*', 'access-control-allow-headers': 'authorization, dpop, content-type', vary: 'origin' };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, POST' }).end();
      return;
    }
    seen.push({ method: req.method ?? '', path, authorization: req.headers.authorization ?? null, dpop: (req.headers.dpop as string | undefined) ?? null });
    if (path === '/v1/redirect') {
      res.writeHead(302, { ...cors, location: `${redirectTo()}/v1/me` }).end();
      return;
    }
    res.writeHead(200, { ...cors, 'content-type': 'application/json' }).end(JSON.stringify({ path }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const test = base.extend<{ origins: { api: Origin; third: Origin } }>({
  // eslint-disable-next-line no-empty-pattern -- Playwright reads the fixtures a fixture uses from its first parameter's pattern.
  origins: async ({}, use) => {
    let thirdUrl = '';
    const api = await startOrigin(() => thirdUrl);
    const third = await startOrigin(() => thirdUrl);
    thirdUrl = third.url;
    await use({ api, third });
    await api.close();
    await third.close();
  },
  // The worker's configuration is fixed where its script is served: here, by the server the test starts.
  serverOptions: async ({ origins }, use) => {
    const others = `${origins.api.url} ${origins.third.url}`;
    await use({
      workerConfig: { apiOrigins: [{ origin: origins.api.url, prefixes: ['/v1/'] }] },
      // The page and the worker may only reach origins their CSP names; the adopter adds the API's.
      contentSecurityPolicy: STRICT_CSP.replace("connect-src 'self'", `connect-src 'self' ${others}`) + `; frame-src ${others}`,
    });
  },
});

/** A fetch from page script, as the app would write it; the answer as the page sees it. */
function pageFetch(page: Page, url: string, init: RequestInit = {}): Promise<{ status: number; type: string; body: string } | { error: string }> {
  return page.evaluate(
    async ([u, i]) => {
      try {
        const res = await fetch(u, i);
        return { status: res.status, type: res.type, body: res.type === 'opaque' ? '' : await res.text() };
      } catch (e) {
        return { error: String(e) };
      }
    },
    [url, init] as const,
  );
}

test('a CORS request under a configured prefix of the API origin carries the DPoP-bound token, with a proof for that URL', async ({ page, server, origins }) => {
  const { api } = origins;
  await openApp(page, server);
  await login(page);
  const answer = await pageFetch(page, `${api.url}/v1/me?x=1`);
  expect(answer).toMatchObject({ status: 200, type: 'cors' });
  const call = api.seen.find((r) => r.path === '/v1/me?x=1')!;
  expect(call.authorization).toMatch(/^DPoP /);
  // The API verifies the token with the broker's published keys, as a resource server on another origin would.
  const token = call.authorization!.slice('DPoP '.length);
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`)));
  expect(payload.sub).toBe('alice');
  expect(decodeJwt(call.dpop!)).toMatchObject({ htm: 'GET', htu: `${api.url}/v1/me`, ath: expect.any(String) });

  const post = await pageFetch(page, `${api.url}/v1/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(post).toMatchObject({ status: 200 });
  const posted = api.seen.find((r) => r.path === '/v1/items')!;
  expect(posted.authorization).toMatch(/^DPoP /);
  expect(decodeJwt(posted.dpop!)).toMatchObject({ htm: 'POST', htu: `${api.url}/v1/items` });
});

test('no token on no-cors requests, other paths, another origin, navigations, or a redirect to another origin', async ({ page, server, origins }) => {
  const { api, third } = origins;
  await openApp(page, server);
  await login(page);
  expect(await pageFetch(page, `${api.url}/v1/no-cors`, { mode: 'no-cors' })).toMatchObject({ type: 'opaque' });
  expect(await pageFetch(page, `${api.url}/v2/outside`)).toMatchObject({ status: 200 });
  expect(await pageFetch(page, `${third.url}/v1/third`)).toMatchObject({ status: 200 });
  await page.evaluate(async (src) => {
    const frame = document.createElement('iframe');
    const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
    frame.src = src;
    document.body.append(frame);
    await loaded;
  }, `${api.url}/v1/frame`);
  // The redirect is answered to the page as refused; the worker never follows it with the token.
  const redirected = await pageFetch(page, `${api.url}/v1/redirect`);
  expect(redirected).toMatchObject({ status: 502 });
  expect((redirected as { body: string }).body).toContain('redirect_refused');

  const at = (o: Origin, path: string) => o.seen.filter((r) => r.path === path);
  expect(at(api, '/v1/no-cors')).toEqual([expect.objectContaining({ authorization: null, dpop: null })]);
  expect(at(api, '/v2/outside')).toEqual([expect.objectContaining({ authorization: null, dpop: null })]);
  expect(at(third, '/v1/third')).toEqual([expect.objectContaining({ authorization: null, dpop: null })]);
  expect(at(api, '/v1/frame')).toEqual([expect.objectContaining({ authorization: null, dpop: null })]);
  // The API itself got the token on the request it redirected; the third origin never heard of it.
  expect(at(api, '/v1/redirect')[0]!.authorization).toMatch(/^DPoP /);
  expect(at(third, '/v1/me')).toEqual([]);
  // And the page's own top-level navigation to the API gets none either.
  await page.goto(`${api.url}/v1/top`);
  expect(at(api, '/v1/top')).toEqual([expect.objectContaining({ authorization: null })]);
});
