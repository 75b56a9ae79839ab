// Issue 26's two figures, in one run.
//
// Redirect sign-in: from the browser's request for the callback (the provider's
// redirect back) to the response of the app's first authenticated API call, against
// the same first call after a plain reload of the same page with the session held.
// The app is the reference server with token-broker/server/oidc and the demo page
// (sw-dpop.js, as the reference setup runs it) on localhost; the provider is
// test-support/oidc-provider on 127.0.0.1, so the redirect back is cross-site and the
// provider's cookies and the app's round-trip cookie are on different hosts. A fresh
// context per round: every round is a first sign-in.
//
// apiOrigins: one signed-in bearer broker tab (sw.js) calling the same-origin API, an
// `apiOrigins` API on another loopback port (CORS, the worker adds the token), and the
// same cross-origin server with the header set by page code, without the worker injecting:
// once through the worker's fetch event (forwarded untouched) and once past it (the browser's
// router sends it to the network), what CORS with an Authorization header costs by itself;
// interleaved, medians. Both cross-origin paths verify the token as the same-origin API does.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Request } from '@playwright/test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { startServer, type StartedServer } from '../reference-server/app';
import { STRICT_CSP } from '../reference-server/settings';
import { startOidcApp, ready, redirectSignIn } from '../e2e/support/oidc-app';
import { brokerLogin, registerWorker, sequential } from './page-probes';
import { median, ratio, round } from './stats';

const CREDENTIALS = { username: 'alice', password: 'wonderland' };

/**
 * Runs in every document before its own scripts: as soon as the demo says the broker is ready,
 * the app's first API call, and when its response has been read (epoch ms, as the CDP request times are).
 */
function firstCallWhenReady(): void {
  const fire = () => {
    if (document.body?.dataset.ready !== 'true' || (window as { __firstCall?: unknown }).__firstCall) return;
    (window as { __firstCall?: unknown }).__firstCall = fetch('/api/me', { cache: 'no-store' }).then(async (res) => {
      await res.arrayBuffer();
      return { status: res.status, end: performance.timeOrigin + performance.now() };
    });
  };
  new MutationObserver(fire).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-ready'] });
}

const firstCall = () => (window as unknown as { __firstCall: Promise<{ status: number; end: number }> }).__firstCall;

/** The request's start as Chromium saw it (epoch ms); a redirect's target is a request of its own. */
function startOf(request: Request): number {
  return request.timing().startTime;
}

export async function redirectSignInCost(browser: Browser, rounds: number) {
  const app = await startOidcApp({ authRateLimit: 1e9, loginAccountRateLimit: 1e9 });
  const redirect: number[] = [];
  const reload: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const context = await browser.newContext();
      try {
        await context.addInitScript(firstCallWhenReady);
        const page = await context.newPage();
        await page.goto(`${app.url}/`);
        await ready(page);
        const seen: { callback?: Request } = {};
        const onRequest = (req: Request) => {
          if (req.isNavigationRequest() && new URL(req.url()).pathname === '/auth/oidc/callback') seen.callback = req;
        };
        page.on('request', onRequest);
        await redirectSignIn(page, app);
        page.off('request', onRequest);
        const signedIn = await page.evaluate(firstCall);
        if (!seen.callback || signedIn.status !== 200) throw new Error(`redirect sign-in: first call answered ${signedIn.status}`);
        redirect.push(signedIn.end - startOf(seen.callback));

        // The baseline: the same page and first call, the session already held by the worker.
        const [navigation] = await Promise.all([page.waitForRequest((req) => req.isNavigationRequest() && req.frame() === page.mainFrame()), page.reload()]);
        await ready(page);
        const again = await page.evaluate(firstCall);
        if (again.status !== 200) throw new Error(`reload: first call answered ${again.status}`);
        reload.push(again.end - startOf(navigation));
      } finally {
        await context.close();
      }
    }
  } finally {
    await app.close();
  }
  const ms = { redirect: round(median(redirect)), reload: round(median(reload)) };
  return { rounds, ms, redirectOverReload: ratio(ms.redirect, ms.reload), logins: app.server.stats.login };
}

interface CorsApi {
  url: string;
  unauthorized: number;
  /** Preflights answered, by the path's first segment: whether a path pays one per request or its cache holds. */
  preflights: Record<string, number>;
  close(): Promise<void>;
}

/** A CORS API on its own loopback port that checks the broker's tokens as the same-origin API does, and answers the time. */
async function startCorsApi(keys: () => StartedServer | null): Promise<CorsApi> {
  let jwks: ReturnType<typeof createLocalJWKSet> | null = null;
  const api = { unauthorized: 0, preflights: {} as Record<string, number> };
  const server: Server = createServer((req, res) => {
    const cors = {
      'access-control-allow-origin': req.headers.origin ?? '*',
      'access-control-allow-headers': 'authorization',
      // Cached preflights: the figure is the per-request cost of a page that keeps calling.
      'access-control-max-age': '600',
      vary: 'origin',
    };
    if (req.method === 'OPTIONS') {
      const segment = (req.url ?? '/').split('/')[1] ?? '';
      api.preflights[segment] = (api.preflights[segment] ?? 0) + 1;
      res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET' }).end();
      return;
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const refuse = () => {
      api.unauthorized++;
      res.writeHead(401, cors).end();
    };
    const broker = keys();
    if (!token || !broker) return refuse();
    jwks ??= createLocalJWKSet(broker.broker.jwks());
    jwtVerify(token, jwks).then(
      () => res.writeHead(200, { ...cors, 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ now: Date.now() })),
      refuse,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get unauthorized() {
      return api.unauthorized;
    },
    preflights: api.preflights,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const API_VARIANTS = ['sameOrigin', 'apiOrigin', 'corsThroughWorker', 'corsByPage'] as const;

export async function apiOriginsCost(browser: Browser, site: string, rounds: number, requests: number) {
  // The worker's configuration is fixed by the server that serves it and names the API's origin: the API first, the keys it checks after.
  let server: StartedServer | null = null;
  const api = await startCorsApi(() => server);
  const context = await browser.newContext();
  try {
    server = await startServer(
      {
        dpop: 'optional',
        dpopNonce: false,
        publicDir: site,
        accessTokenTtl: 3600,
        authRateLimit: 1e9,
        workerConfig: { apiOrigins: [{ origin: api.url, prefixes: ['/v1/'] }] },
        contentSecurityPolicy: STRICT_CSP.replace("connect-src 'self'", `connect-src 'self' ${api.url}`),
      },
    );
    const page = await context.newPage();
    await page.goto(`${server.url}/bench.html`);
    await page.evaluate(registerWorker, '/sw.js');
    await page.evaluate(brokerLogin, CREDENTIALS);
    // The baseline's token, from a sign-in of its own: page code sets it, the worker leaves the request alone.
    const res = await fetch(`${server.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-token-broker': '1' },
      body: JSON.stringify(CREDENTIALS),
    });
    const pageBearer = `Bearer ${((await res.json()) as { access_token: string }).access_token}`;
    const probe = {
      sameOrigin: { url: '/api/time', authorization: null },
      apiOrigin: { url: `${api.url}/v1/time`, authorization: null },
      // Under the same-origin API prefix, whose Static Routing pattern matches any origin: the worker's
      // fetch event sees it and forwards it untouched (not an apiOrigins origin), so this is CORS plus the worker's round trip.
      corsThroughWorker: { url: `${api.url}/api/time`, authorization: pageBearer },
      // Outside every prefix the worker covers: the browser's router sends it to the network, no fetch event.
      corsByPage: { url: `${api.url}/plain/time`, authorization: pageBearer },
    } as const;
    // The answers say no-store; the default cache mode keeps the preflight cache, as an app's calls do.
    for (const v of API_VARIANTS) await page.evaluate(sequential, { ...probe[v], count: 20, cache: 'default' as const });
    const samples = Object.fromEntries(API_VARIANTS.map((v) => [v, [] as number[]])) as Record<(typeof API_VARIANTS)[number], number[]>;
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < API_VARIANTS.length; i++) {
        const v = API_VARIANTS[(i + r) % API_VARIANTS.length]!;
        samples[v].push(await page.evaluate(sequential, { ...probe[v], count: requests, cache: 'default' as const }));
      }
    }
    const msPerRequest = Object.fromEntries(API_VARIANTS.map((v) => [v, round(median(samples[v]) / requests)])) as Record<(typeof API_VARIANTS)[number], number>;
    return {
      rounds,
      requests,
      msPerRequest,
      apiOriginOverSameOrigin: ratio(msPerRequest.apiOrigin, msPerRequest.sameOrigin),
      apiOriginOverCorsThroughWorker: ratio(msPerRequest.apiOrigin, msPerRequest.corsThroughWorker),
      apiOriginOverCorsByPage: ratio(msPerRequest.apiOrigin, msPerRequest.corsByPage),
      corsByPageOverSameOrigin: ratio(msPerRequest.corsByPage, msPerRequest.sameOrigin),
      unauthorized: api.unauthorized,
      // v1: apiOrigins (the worker's request), api: through the worker, plain: past it; out of (rounds + 20 warm-up requests) * requests each.
      preflights: { ...api.preflights },
    };
  } finally {
    await context.close();
    await server?.close();
    await api.close();
  }
}
