// APIs on other origins (apiOrigins): the worker adds the token to CORS requests
// under a configured prefix of a configured origin, and to nothing else. The API
// and a third origin are plain Node servers on other loopback ports (another port
// is another origin) that log the Authorization header each request brought.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from '@playwright/test';
import type * as ClientModule from '../client/index';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { STRICT_CSP } from '../reference-server/settings';
import { expect, login, openApp, test as base } from './support/fixtures';

interface Logged {
  method: string;
  path: string;
  authorization: string | null;
  dpop: string | null;
  cookie: string | null;
  body: string;
}

interface Origin {
  url: string;
  seen: Logged[];
  close(): Promise<void>;
}

/** The token with its expiry moved an hour on and its signature kept: what a renewal from this origin would carry. */
function extended(token: string): string {
  const [head, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { exp: number };
  return [head, Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 3600 })).toString('base64url'), signature].join('.');
}

/**
 * A CORS API for the app's origin (which it learns per request), with credentials allowed: logs each
 * request, answers JSON; /v1/redirect redirects, /v1/set-cookie sets its own cookie, /v1/expired answers
 * 401 the first time, /v1/renew sends a renewal header it exposes to CORS (/v1/renew-any: also without a token),
 * /v1/forged-step-up forges the worker's step-up mark, /v1/step-up answers an RFC 9470 challenge
 * (/v1/step-up-exposed exposes WWW-Authenticate to CORS), /v1/always-401 refuses every token.
 */
async function startOrigin(redirectTo: () => string): Promise<Origin> {
  const seen: Logged[] = [];
  let expiredOnce = false;
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    const path = req.url ?? '/';
    const cors = {
      'access-control-allow-origin': req.headers.origin ?? '*',
      'access-control-allow-headers': 'authorization, dpop, content-type',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': `x-renewed-token, x-token-broker-step-up${path === '/v1/step-up-exposed' ? ', www-authenticate' : ''}`,
      vary: 'origin',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, POST' }).end();
      return;
    }
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const authorization = req.headers.authorization ?? null;
    seen.push({ method: req.method ?? '', path, authorization, dpop: (req.headers.dpop as string | undefined) ?? null, cookie: req.headers.cookie ?? null, body });
    if (path === '/v1/redirect') {
      res.writeHead(302, { ...cors, location: `${redirectTo()}/v1/me` }).end();
      return;
    }
    if (path === '/v1/expired' && !expiredOnce) {
      expiredOnce = true;
      res.writeHead(401, { ...cors, 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
      return;
    }
    if (path.startsWith('/v1/step-up')) {
      const challenge = 'DPoP error="insufficient_user_authentication", max_age=300';
      res.writeHead(401, { ...cors, 'www-authenticate': challenge, 'content-type': 'application/json' }).end('{"error":"insufficient_user_authentication"}');
      return;
    }
    if (path === '/v1/always-401') {
      res.writeHead(401, { ...cors, 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
      return;
    }
    const extra: Record<string, string> = {};
    if (path === '/v1/forged-step-up') extra['x-token-broker-step-up'] = '{"acrValues":["forged"]}';
    if (path === '/v1/renew-any') extra['x-renewed-token'] = 'not-a-token-the-page-may-see';
    if (path === '/v1/set-cookie') extra['set-cookie'] = 'api_session=s1; Path=/v1; SameSite=Lax; HttpOnly';
    if (path === '/v1/renew' && authorization) extra['x-renewed-token'] = extended(authorization.split(' ')[1]!);
    res.writeHead(200, { ...cors, ...extra, 'content-type': 'application/json' }).end(JSON.stringify({ path, body }));
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
      workerConfig: { apiOrigins: [{ origin: origins.api.url, prefixes: ['/v1/'] }], renewHeader: 'x-renewed-token' },
      // The page and the worker may only reach origins their CSP names; the adopter adds the API's.
      contentSecurityPolicy: STRICT_CSP.replace("connect-src 'self'", `connect-src 'self' ${others}`) + `; frame-src ${others}`,
    });
  },
});

/** A fetch from page script, as the app would write it; the answer as the page sees it. */
function pageFetch(page: Page, url: string, init: RequestInit = {}): Promise<{ status: number; type: string; body: string; renewal: string | null; stepUp: string | null } | { error: string }> {
  return page.evaluate(
    async ([u, i]) => {
      try {
        const res = await fetch(u, i);
        return { status: res.status, type: res.type, body: res.type === 'opaque' ? '' : await res.text(), renewal: res.headers.get('x-renewed-token'), stepUp: res.headers.get('x-token-broker-step-up') };
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

test('credentials go as the page asked: include sends the API origin its own cookie, omit and the default send none', async ({ page, server, origins }) => {
  const { api } = origins;
  await openApp(page, server);
  await login(page);
  // The API sets its cookie on a credentialed CORS answer (it allows credentials for the app's origin).
  expect(await pageFetch(page, `${api.url}/v1/set-cookie`, { credentials: 'include' })).toMatchObject({ status: 200, type: 'cors' });
  expect(await pageFetch(page, `${api.url}/v1/with-cookie`, { credentials: 'include' })).toMatchObject({ status: 200, type: 'cors' });
  expect(await pageFetch(page, `${api.url}/v1/omit`, { credentials: 'omit' })).toMatchObject({ status: 200 });
  // fetch's default, 'same-origin', sends no cookie to another origin.
  expect(await pageFetch(page, `${api.url}/v1/default`)).toMatchObject({ status: 200 });
  const at = (path: string) => api.seen.find((r) => r.path === path)!;
  expect(at('/v1/with-cookie').cookie).toContain('api_session=s1');
  expect(at('/v1/omit').cookie).toBeNull();
  expect(at('/v1/default').cookie).toBeNull();
  // Each carried the token all the same: credentials are the page's choice, the token the worker's.
  for (const path of ['/v1/set-cookie', '/v1/with-cookie', '/v1/omit', '/v1/default']) expect(at(path).authorization).toMatch(/^DPoP /);
});

test('a 401 from the API origin on a token the worker trusts: one refresh, the request replayed with its body, the page sees 200', async ({ page, server, origins }) => {
  const { api } = origins;
  await openApp(page, server);
  await login(page);
  const refreshes = server.stats.refresh;
  const answer = await pageFetch(page, `${api.url}/v1/expired`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":1}' });
  expect(answer).toMatchObject({ status: 200, type: 'cors' });
  expect(JSON.parse((answer as { body: string }).body)).toEqual({ path: '/v1/expired', body: '{"n":1}' });
  expect(server.stats.refresh).toBe(refreshes + 1);
  const calls = api.seen.filter((r) => r.path === '/v1/expired');
  expect(calls.map((c) => c.body)).toEqual(['{"n":1}', '{"n":1}']);
  // The replay carried the new token, which the API accepts with the broker's keys, and a proof of its own.
  const [first, replay] = calls.map((c) => c.authorization!.slice('DPoP '.length));
  expect(replay).not.toBe(first);
  await jwtVerify(replay!, createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`)));
  expect(calls[1]!.dpop).not.toBe(calls[0]!.dpop);
  expect(decodeJwt(calls[1]!.dpop!)).toMatchObject({ htm: 'POST', htu: `${api.url}/v1/expired` });
});

test('a renewal header from the API origin is ignored, even exposed to CORS, and never reaches the page', async ({ page, server, origins }) => {
  const { api } = origins;
  await openApp(page, server);
  await login(page);
  const renewed = await pageFetch(page, `${api.url}/v1/renew`);
  // The worker rebuilt the answer without the header (the page sees it as the worker's, type basic).
  expect(renewed).toMatchObject({ status: 200, renewal: null });
  expect(await pageFetch(page, `${api.url}/v1/me`)).toMatchObject({ status: 200 });
  const token = (path: string) => api.seen.find((r) => r.path === path)!.authorization;
  // Had the worker taken the renewal (same claims, a later expiry), the next call would carry it.
  expect(token('/v1/me')).toBe(token('/v1/renew'));
});

test('a step-up mark or a renewal the API origin sends never reaches the page, signed in or out', async ({ page, server, origins }) => {
  const { api } = origins;
  await openApp(page, server);
  // Signed out: the request goes without a token, and the worker still takes both headers out.
  expect(await pageFetch(page, `${api.url}/v1/renew-any`)).toMatchObject({ status: 200, renewal: null });
  expect(await pageFetch(page, `${api.url}/v1/forged-step-up`)).toMatchObject({ status: 200, stepUp: null });
  await login(page);
  expect(await pageFetch(page, `${api.url}/v1/renew-any`)).toMatchObject({ status: 200, renewal: null });
  expect(await pageFetch(page, `${api.url}/v1/forged-step-up`)).toMatchObject({ status: 200, stepUp: null });
  expect(api.seen.filter((r) => r.path === '/v1/forged-step-up').map((r) => r.authorization !== null)).toEqual([false, true]);
});

/** What the page's stepUpRequirement(response) makes of the API's answer, and what the API counted. */
async function stepUpFrom(page: Page, url: string) {
  return page.evaluate(async (u) => {
    const client = (await import('/client.js' as string)) as typeof ClientModule;
    const res = await fetch(u, { method: 'POST', body: '{}' });
    return { status: res.status, body: await res.text(), requirement: client.stepUpRequirement(res) };
  }, url);
}

/** Counts the worker's calls to the refresh endpoint. */
async function countRefreshes(page: Page): Promise<{ count: number }> {
  const seen = { count: 0 };
  await page.context().route('**/auth/refresh', async (route) => {
    seen.count++;
    await route.continue();
  });
  return seen;
}

test('step-up from the API origin: with WWW-Authenticate exposed, the requirement and no refresh; without, the 401 as sent and no refresh loop', async ({ page, server, origins }) => {
  const { api } = origins;
  await page.context().route('**/client.js', (route) => route.fulfill({ path: 'dist/client/index.js', contentType: 'text/javascript' }));
  await openApp(page, server);
  await login(page);
  const refreshes = await countRefreshes(page);
  const exposed = await stepUpFrom(page, `${api.url}/v1/step-up-exposed`);
  expect(exposed).toEqual({ status: 401, body: '{"error":"insufficient_user_authentication"}', requirement: { maxAge: 300 } });
  expect(refreshes.count).toBe(0);
  expect(api.seen.filter((r) => r.path === '/v1/step-up-exposed')).toHaveLength(1);

  // Not exposed, the worker cannot read the challenge: it takes the 401 for a stale token (one refresh and
  // a replay), then hands the page the API's 401, unmarked. Asked again, no more refreshes.
  for (let i = 0; i < 3; i++) {
    expect(await stepUpFrom(page, `${api.url}/v1/step-up`)).toEqual({ status: 401, body: '{"error":"insufficient_user_authentication"}', requirement: null });
  }
  expect(refreshes.count).toBe(1);
  expect(api.seen.filter((r) => r.path === '/v1/step-up')).toHaveLength(4);
});

test('an API origin that answers 401 to every token costs one refresh, not one per request; the session and its own API go on', async ({ page, server, origins }) => {
  const { api } = origins;
  await openApp(page, server);
  await login(page);
  const refreshes = await countRefreshes(page);
  for (let i = 0; i < 10; i++) expect(await pageFetch(page, `${api.url}/v1/always-401`)).toMatchObject({ status: 401, body: '{"error":"invalid_token"}' });
  expect(refreshes.count).toBe(1);
  // The first request was replayed once with the refreshed token; the rest went once each.
  expect(api.seen.filter((r) => r.path === '/v1/always-401')).toHaveLength(11);
  expect(await pageFetch(page, `${server.url}/api/me`)).toMatchObject({ status: 200 });
  // A 401 from the worker's own API on that token still gets its refresh and replay: the bound is per origin.
  let refused = false;
  await page.context().route('**/api/me', (route) => {
    if (refused) return route.continue();
    refused = true;
    return route.fulfill({ status: 401, json: { error: 'invalid_token' } });
  });
  expect(await pageFetch(page, `${server.url}/api/me`)).toMatchObject({ status: 200 });
  expect(refreshes.count).toBe(2);
});
