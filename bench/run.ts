// `npm run bench`: the cost of the broker, measured side by side in one run
// against baselines (no worker with the header set by page code, and a
// pass-through worker), interleaved, medians over rounds. Prints a table and
// writes a JSON report. `--quick` is the short run CI checks the budgets with.
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { chromiumArgs, chromiumPath } from '../e2e/support/chromium.mjs';
import { startServer, type StartedServer } from '../reference-server/app';
import { idleCost } from './idle';
import { brokerLogin, concurrent, registerWorker, sequential } from './page-probes';
import { measureSizes } from './size';
import { wakeCost } from './wake';
import { apiOriginsCost, redirectSignInCost } from './oidc';
import { median, ratio, round } from './stats';

const quick = process.argv.includes('--quick');
const outIndex = process.argv.indexOf('--out');
const outFile = outIndex > 0 ? process.argv[outIndex + 1]! : 'bench/report.json';

const N = quick
  ? { rounds: 2, sequential: 200, concurrent: 100, static: 100, cold: 3, coalescing: [[100, 3]], steadySeconds: 7 }
  : { rounds: 5, sequential: 1000, concurrent: 500, static: 500, cold: 15, coalescing: [[100, 1], [500, 5]], steadySeconds: 16 };

const CREDENTIALS = { username: 'alice', password: 'wonderland' };
/** The bearer worker (sw.js) against a server that takes bearer tokens: this benchmark measures the broker, not DPoP (bench:dpop does). */
const BEARER = { dpop: 'optional', dpopNonce: false } as const;
const API = '/api/time';
const WAKE_ROUNDS = 9;
const OIDC = quick ? { signIns: 2, rounds: 2, requests: 100 } : { signIns: 9, rounds: 5, requests: 500 };
const ASSET = '/asset.txt';

// noWorkerAgain: a second client without a worker, so the run measures its own noise (A/A).
// noFetchHandler: a controlled page whose worker has no fetch handler (Chromium then skips the worker).
// routerFloor: a worker with a fetch handler and one rule sending every request to the network,
// the least any worker with a fetch handler can cost a static request through the Static Routing API.
type Variant = 'direct' | 'noWorkerAgain' | 'noFetchHandler' | 'routerFloor' | 'passthrough' | 'broker' | 'brokerNoRouting' | 'brokerDpop';

interface Client {
  page: Page;
  context: BrowserContext;
  /** Set by page code in the baselines; the broker adds its own. */
  authorization: string | null;
}

function makeSite(): string {
  const site = mkdtempSync(join(tmpdir(), 'broker-bench-'));
  cpSync('public', site, { recursive: true });
  writeFileSync(join(site, 'bench.html'), '<!doctype html><meta charset="utf-8"><title>bench</title>');
  writeFileSync(join(site, 'asset.txt'), 'x'.repeat(2048));
  // The floor of any worker design: every request goes through a fetch event and back.
  writeFileSync(
    join(site, 'passthrough-sw.js'),
    "self.addEventListener('install',()=>self.skipWaiting());self.addEventListener('activate',e=>e.waitUntil(self.clients.claim()));self.addEventListener('fetch',e=>e.respondWith(fetch(e.request)));",
  );
  writeFileSync(
    join(site, 'router-floor-sw.js'),
    "self.addEventListener('install',e=>{self.skipWaiting();e.waitUntil(e.addRoutes({condition:{urlPattern:new URLPattern({pathname:'/*'})},source:'network'}))});" +
      "self.addEventListener('activate',e=>e.waitUntil(self.clients.claim()));self.addEventListener('fetch',e=>e.respondWith(fetch(e.request)));",
  );
  writeFileSync(
    join(site, 'no-fetch-sw.js'),
    "self.addEventListener('install',()=>self.skipWaiting());self.addEventListener('activate',e=>e.waitUntil(self.clients.claim()));",
  );
  return site;
}

async function bearerFromServer(server: StartedServer): Promise<string> {
  const res = await fetch(`${server.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-token-broker': '1' },
    body: JSON.stringify(CREDENTIALS),
  });
  return `Bearer ${((await res.json()) as { access_token: string }).access_token}`;
}

async function openClient(browser: Browser, server: StartedServer, variant: Variant, bearer: string): Promise<Client> {
  const noWorker = variant === 'direct' || variant === 'noWorkerAgain';
  const context = await browser.newContext(noWorker ? { serviceWorkers: 'block' } : {});
  const page = await context.newPage();
  await page.goto(`${server.url}/bench.html`);
  if (variant === 'passthrough') await page.evaluate(registerWorker, '/passthrough-sw.js');
  if (variant === 'noFetchHandler') await page.evaluate(registerWorker, '/no-fetch-sw.js');
  if (variant === 'routerFloor') await page.evaluate(registerWorker, '/router-floor-sw.js');
  if (variant === 'broker' || variant === 'brokerNoRouting' || variant === 'brokerDpop') {
    await page.evaluate(registerWorker, { broker: '/sw.js', brokerNoRouting: '/sw-no-routing.js', brokerDpop: '/sw-dpop.js' }[variant]);
    await page.evaluate(brokerLogin, CREDENTIALS);
  }
  const authorization = variant === 'broker' || variant === 'brokerNoRouting' || variant === 'brokerDpop' ? null : bearer;
  return { page, context, authorization };
}

/** Runs `fn` for every variant in every round, rotating the order so no variant always goes first. */
async function interleaved<V extends string>(variants: readonly V[], fn: (v: V) => Promise<number>, rounds = N.rounds): Promise<Record<V, number[]>> {
  const out = Object.fromEntries(variants.map((v) => [v, [] as number[]])) as Record<V, number[]>;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + r) % variants.length]!;
      out[v].push(await fn(v));
    }
  }
  return out;
}

async function stopWorkers(client: Client): Promise<void> {
  const cdp = await client.context.newCDPSession(client.page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await cdp.detach();
}

/**
 * The first API request after the browser stopped the worker (what idleness
 * does every few seconds of quiet), for the pass-through worker (the floor:
 * starting any worker), the bearer broker (sw.js) and the DPoP broker
 * (sw-dpop.js, against a server in the reference setup: DPoP required, nonces
 * on), interleaved; and the warm request after it, for scale.
 */
async function coldStarts(clients: Record<'passthrough' | 'broker' | 'brokerDpop', Client>) {
  const variants = ['passthrough', 'broker', 'brokerDpop'] as const;
  const warm = Object.fromEntries(variants.map((v) => [v, [] as number[]])) as Record<(typeof variants)[number], number[]>;
  const request = (v: (typeof variants)[number]) => clients[v].page.evaluate(sequential, { url: API, count: 1, authorization: clients[v].authorization });
  const cold = await interleaved(variants, async (v) => {
    await stopWorkers(clients[v]);
    const ms = await request(v);
    for (let j = 0; j < 2; j++) warm[v].push(await request(v));
    return ms;
  }, N.cold);
  const coldMs = Object.fromEntries(variants.map((v) => [v, round(median(cold[v]))])) as Record<(typeof variants)[number], number>;
  const warmMs = Object.fromEntries(variants.map((v) => [v, round(median(warm[v]))])) as Record<(typeof variants)[number], number>;
  return {
    samples: N.cold,
    coldMs,
    warmMs,
    brokerOverPassthrough: ratio(coldMs.broker, coldMs.passthrough),
    brokerDpopOverPassthrough: ratio(coldMs.brokerDpop, coldMs.passthrough),
  };
}

async function coalescing(browser: Browser, site: string, requests: number, tabs: number) {
  // The fresh token must outlive the burst (500 requests take about a second here),
  // or a second, legitimate refresh would be counted.
  const ttl = 6;
  const server = await startServer({ ...BEARER, publicDir: site, accessTokenTtl: ttl, authRateLimit: 1e9, workerConfig: { refreshBeforeExpiry: 1 } });
  const context = await browser.newContext();
  try {
    const pages: Page[] = [];
    for (let i = 0; i < tabs; i++) {
      const page = await context.newPage();
      await page.goto(`${server.url}/bench.html`);
      await page.evaluate(registerWorker, '/sw.js');
      pages.push(page);
    }
    await pages[0]!.evaluate(brokerLogin, CREDENTIALS);
    // Past the refresh point (ttl - 1 s): every request of the burst needs a refresh first.
    await pages[0]!.waitForTimeout((ttl - 1) * 1000 + 200);
    const before = server.stats.refresh;
    const share = Math.ceil(requests / tabs);
    await Promise.all(pages.map((p) => p.evaluate(concurrent, { url: API, count: share, authorization: null })));
    return { requests: share * tabs, tabs, refreshes: server.stats.refresh - before, unauthorized: server.stats.apiUnauthorized };
  } finally {
    await context.close();
    await server.close();
  }
}

async function steadyState(browser: Browser, site: string) {
  const ttl = 4;
  const margin = 1;
  const server = await startServer({ ...BEARER, publicDir: site, accessTokenTtl: ttl, authRateLimit: 1e9, workerConfig: { refreshBeforeExpiry: margin } });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/bench.html`);
    await page.evaluate(registerWorker, '/sw.js');
    await page.evaluate(brokerLogin, CREDENTIALS);
    const requests = await page.evaluate(
      async ({ url, ms }) => {
        let n = 0;
        const end = performance.now() + ms;
        while (performance.now() < end) {
          const res = await fetch(url, { cache: 'no-store' });
          await res.arrayBuffer();
          n++;
          await new Promise((r) => setTimeout(r, 20));
        }
        return n;
      },
      { url: API, ms: N.steadySeconds * 1000 },
    );
    // A token is refreshed once it is within the margin of expiry: one refresh per (ttl - margin) seconds.
    const period = ttl - margin;
    return {
      seconds: N.steadySeconds,
      requests,
      accessTokenTtl: ttl,
      refreshBeforeExpiry: margin,
      refreshes: server.stats.refresh,
      expectedRefreshes: Math.floor(N.steadySeconds / period),
      unauthorized: server.stats.apiUnauthorized,
    };
  } finally {
    await context.close();
    await server.close();
  }
}

/** Issue 26's figures (bench/oidc.ts): redirect sign-in to the first API call, and apiOrigins injection. */
async function oidcCosts(browser: Browser, site: string) {
  return { redirectSignIn: await redirectSignInCost(browser, OIDC.signIns), apiOrigins: await apiOriginsCost(browser, site, OIDC.rounds, OIDC.requests) };
}

/** `--idle`, `--wake` or `--oidc`: only the idle-tab comparison (bench/idle.ts), the wake one (bench/wake.ts) or issue 26's (bench/oidc.ts), printed as JSON. */
async function oneOnly(name: 'idle' | 'wake' | 'oidc'): Promise<void> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs });
  try {
    const result = name === 'idle' ? await idleCost(browser, makeSite(), quick) : name === 'wake' ? await wakeCost(browser, makeSite(), quick ? 2 : WAKE_ROUNDS) : await oidcCosts(browser, makeSite());
    writeFileSync(outFile, `${JSON.stringify({ date: new Date().toISOString(), quick, [name]: result }, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  const sizes = measureSizes();
  const site = makeSite();
  const server = await startServer(
    { ...BEARER, publicDir: site, accessTokenTtl: 3600, authRateLimit: 1e9 },
    { workerScripts: { '/sw-no-routing.js': { build: 'sw.js', config: { staticRouting: false } } } },
  );
  // The DPoP broker as the reference setup runs it: its own server, DPoP required, nonces on.
  const dpopServer = await startServer({ publicDir: site, accessTokenTtl: 3600, authRateLimit: 1e9 });
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs });
  try {
    const bearer = await bearerFromServer(server);
    const variants = ['direct', 'noWorkerAgain', 'noFetchHandler', 'routerFloor', 'passthrough', 'broker', 'brokerNoRouting', 'brokerDpop'] as const;
    const clients = {} as Record<Variant, Client>;
    for (const v of variants) clients[v] = await openClient(browser, v === 'brokerDpop' ? dpopServer : server, v, bearer);
    // Warm every path once so the first round does not pay for connection set-up.
    for (const v of variants) await clients[v].page.evaluate(sequential, { url: API, count: 20, authorization: clients[v].authorization });

    const apiVariants = ['direct', 'passthrough', 'broker', 'brokerDpop'] as const;
    const seq = await interleaved(apiVariants, (v) =>
      clients[v].page.evaluate(sequential, { url: API, count: N.sequential, authorization: clients[v].authorization }),
    );
    const conc = await interleaved(apiVariants, (v) =>
      clients[v].page.evaluate(concurrent, { url: API, count: N.concurrent, authorization: clients[v].authorization }),
    );
    const staticVariants = ['direct', 'noWorkerAgain', 'noFetchHandler', 'routerFloor', 'broker', 'brokerNoRouting'] as const;
    const stat = await interleaved(staticVariants, (v) =>
      clients[v].page.evaluate(sequential, { url: ASSET, count: N.static, authorization: null }),
    );
    const cold = await coldStarts(clients);
    const perRequest = (ms: number[], n: number) => round(median(ms) / n);
    const throughput = (ms: number[], n: number) => Math.round(n / (median(ms) / 1000));
    const apiLatency = Object.fromEntries(apiVariants.map((v) => [v, perRequest(seq[v], N.sequential)])) as Record<(typeof apiVariants)[number], number>;
    const apiThroughput = Object.fromEntries(apiVariants.map((v) => [v, throughput(conc[v], N.concurrent)])) as Record<(typeof apiVariants)[number], number>;
    const staticLatency = Object.fromEntries(staticVariants.map((v) => [v, perRequest(stat[v], N.static)])) as Record<(typeof staticVariants)[number], number>;

    const coalesce = [];
    for (const [requests, tabs] of N.coalescing) coalesce.push(await coalescing(browser, site, requests!, tabs!));
    const steady = await steadyState(browser, site);
    const idle = await idleCost(browser, site, quick);
    // Not in --quick: CI's run checks budgets, and the wake has none but "no more than a warm call" to read.
    const wake = quick ? null : await wakeCost(browser, site, WAKE_ROUNDS);
    const oidc = quick ? null : await oidcCosts(browser, site);

    const report = {
      date: new Date().toISOString(),
      quick,
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: round(totalmem() / 2 ** 30, 1), node: process.version, browser: browser.version() },
      rounds: N.rounds,
      apiSequential: {
        requests: N.sequential,
        msPerRequest: apiLatency,
        brokerOverDirect: ratio(apiLatency.broker, apiLatency.direct),
        brokerOverPassthrough: ratio(apiLatency.broker, apiLatency.passthrough),
        dpopOverBearer: ratio(apiLatency.brokerDpop, apiLatency.broker),
      },
      apiConcurrent: { requests: N.concurrent, requestsPerSecond: apiThroughput, brokerOverDirect: ratio(apiThroughput.broker, apiThroughput.direct), brokerOverPassthrough: ratio(apiThroughput.broker, apiThroughput.passthrough) },
      staticSequential: {
        requests: N.static,
        msPerRequest: staticLatency,
        brokerOverNoWorker: ratio(staticLatency.broker, staticLatency.direct),
        brokerWithoutRoutingOverNoWorker: ratio(staticLatency.brokerNoRouting, staticLatency.direct),
        noFetchHandlerOverNoWorker: ratio(staticLatency.noFetchHandler, staticLatency.direct),
        routerFloorOverNoWorker: ratio(staticLatency.routerFloor, staticLatency.direct),
        brokerOverRouterFloor: ratio(staticLatency.broker, staticLatency.routerFloor),
        ...staticNoise(stat),
      },
      coldStart: cold,
      coalescing: coalesce,
      steadyState: steady,
      idle,
      wake,
      oidc,
      sizes,
    };
    writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
    print(report);
  } finally {
    await browser.close();
    await server.close();
    await dpopServer.close();
  }
}

/**
 * Whether the broker with static routing is within noise of no worker, and of
 * the router's own floor. The noise is how far two identical no-worker clients
 * drift apart in a round (the largest per-round A/A ratio away from 1), in the
 * same rounds the others ran in.
 */
function staticNoise(stat: Record<'direct' | 'noWorkerAgain' | 'routerFloor' | 'broker', number[]>) {
  const perRound = (v: 'noWorkerAgain' | 'routerFloor' | 'broker', over: 'direct' | 'routerFloor' = 'direct') => stat[v].map((ms, i) => ms / stat[over][i]!);
  const noise = Math.max(...perRound('noWorkerAgain').map((x) => Math.abs(x - 1)));
  const within = (ratios: number[]) => Math.abs(median(ratios) - 1) <= noise;
  return {
    noWorkerAOverA: round(median(perRound('noWorkerAgain'))),
    noiseBand: round(noise),
    brokerWithinNoiseOfNoWorker: within(perRound('broker')),
    brokerWithinNoiseOfRouterFloor: within(perRound('broker', 'routerFloor')),
  };
}

function print(r: {
  machine: object;
  apiSequential: { msPerRequest: Record<string, number>; brokerOverDirect: number; brokerOverPassthrough: number; dpopOverBearer: number };
  apiConcurrent: { requestsPerSecond: Record<string, number>; brokerOverDirect: number; brokerOverPassthrough: number };
  staticSequential: { msPerRequest: Record<string, number>; brokerOverNoWorker: number; brokerWithoutRoutingOverNoWorker: number; noFetchHandlerOverNoWorker: number; routerFloorOverNoWorker: number; brokerOverRouterFloor: number; noWorkerAOverA: number; noiseBand: number; brokerWithinNoiseOfNoWorker: boolean; brokerWithinNoiseOfRouterFloor: boolean };
  coldStart: { coldMs: Record<string, number>; warmMs: Record<string, number>; brokerOverPassthrough: number; brokerDpopOverPassthrough: number };
  coalescing: { requests: number; tabs: number; refreshes: number }[];
  steadyState: { seconds: number; refreshes: number; expectedRefreshes: number; unauthorized: number };
  idle: Awaited<ReturnType<typeof idleCost>>;
  wake: Awaited<ReturnType<typeof wakeCost>> | null;
  oidc: Awaited<ReturnType<typeof oidcCosts>> | null;
  sizes: Record<string, { gzipBytes: number; maxGzipBytes: number | null; withinBudget: boolean }>;
}): void {
  const st = r.staticSequential;
  const rows: [string, string, string][] = [
    [
      'API latency, sequential (ms/request)',
      `direct ${r.apiSequential.msPerRequest.direct} | pass-through ${r.apiSequential.msPerRequest.passthrough} | broker ${r.apiSequential.msPerRequest.broker} | broker with DPoP ${r.apiSequential.msPerRequest.brokerDpop}`,
      `broker/direct ${r.apiSequential.brokerOverDirect}, broker/pass-through ${r.apiSequential.brokerOverPassthrough}, DPoP/bearer ${r.apiSequential.dpopOverBearer}`,
    ],
    ['API throughput, concurrent (req/s)', `direct ${r.apiConcurrent.requestsPerSecond.direct} | pass-through ${r.apiConcurrent.requestsPerSecond.passthrough} | broker ${r.apiConcurrent.requestsPerSecond.broker}`, `broker/direct ${r.apiConcurrent.brokerOverDirect}, broker/pass-through ${r.apiConcurrent.brokerOverPassthrough}`],
    ['Static latency (ms/request)', `no worker ${st.msPerRequest.direct} | worker without fetch handler ${st.msPerRequest.noFetchHandler} | router floor ${st.msPerRequest.routerFloor} | broker ${st.msPerRequest.broker} | broker, no routing ${st.msPerRequest.brokerNoRouting}`, `broker/no worker ${st.brokerOverNoWorker}, broker/router floor ${st.brokerOverRouterFloor}`],
    ['Static, other ratios', `no fetch handler/no worker ${st.noFetchHandlerOverNoWorker}, router floor/no worker ${st.routerFloorOverNoWorker}, broker without routing/no worker ${st.brokerWithoutRoutingOverNoWorker}`, ''],
    ['Static noise (no worker A/A)', `median ${st.noWorkerAOverA}, per-round band ±${st.noiseBand}`, `broker ${st.brokerWithinNoiseOfNoWorker ? 'within' : 'outside'} noise of no worker, ${st.brokerWithinNoiseOfRouterFloor ? 'within' : 'outside'} noise of the router floor`],
    [
      'Cold start (ms, first API request after the browser stopped the worker)',
      `pass-through ${r.coldStart.coldMs.passthrough} | sw.js ${r.coldStart.coldMs.broker} | sw-dpop.js ${r.coldStart.coldMs.brokerDpop} (warm: ${r.coldStart.warmMs.passthrough} | ${r.coldStart.warmMs.broker} | ${r.coldStart.warmMs.brokerDpop})`,
      `sw.js/pass-through ${r.coldStart.brokerOverPassthrough}, sw-dpop.js/pass-through ${r.coldStart.brokerDpopOverPassthrough}`,
    ],
    ...r.coalescing.map((c): [string, string, string] => [`Coalescing: ${c.requests} requests over ${c.tabs} tab(s)`, `${c.refreshes} refresh(es)`, c.refreshes === 1 ? 'ok' : 'FAIL']),
    ...r.idle.refreshes.map((x): [string, string, string] => [
      `Idle tab, one call every 5 min, ${x.accessTokenTtlMinutes}-min tokens: refreshes/hour`,
      `IndexedDB (old default) ${x.perHour.indexeddb} | memory + heartbeat ${x.perHour.memory} | memory, worker stopped ${x.perHour.memoryNoPage}`,
      `memory/IndexedDB ${x.memoryOverIndexeddb}, stopped memory/IndexedDB ${x.memoryNoPageOverIndexeddb}`,
    ]),
    ...(r.idle.latency
      ? (['after1Minute', 'after10Minutes'] as const).map((k): [string, string, string] => {
          const l = r.idle.latency![k];
          return [`Idle tab, first call ${k === 'after1Minute' ? 'after 1 min' : 'after 10 min'} (ms)`, `IndexedDB ${l.ms.indexeddb} | memory + heartbeat ${l.ms.memory} | memory, worker stopped ${l.ms.memoryNoPage}`, `memory/IndexedDB ${l.memoryOverIndexeddb}, stopped memory/IndexedDB ${l.memoryNoPageOverIndexeddb}`];
        })
      : []),
    ...(r.wake
      ? Object.entries(r.wake.cases).map(([key, c]): [string, string, string] => {
          const [sleep, gap] = key.split('/');
          return [
            `First call after a wake, token ${sleep === 'margin' ? 'in its margin' : 'expired'}, ${gap} ms later (ms)`,
            `refreshOnResume on ${c.ms.on} | off ${c.ms.off} | no refresh due ${c.ms.fresh} (back-to-back: ${r.wake!.warmMs.on})`,
            `on/no refresh due ${c.onOverFresh}, off/no refresh due ${c.offOverFresh}, on/off ${c.onOverOff}`,
          ];
        })
      : []),
    ...(r.oidc
      ? [
          [
            'Redirect sign-in: callback to first API response (ms)',
            `redirect back ${r.oidc.redirectSignIn.ms.redirect} | reload with a session ${r.oidc.redirectSignIn.ms.reload}`,
            `redirect/reload ${r.oidc.redirectSignIn.redirectOverReload}`,
          ] as [string, string, string],
          [
            'apiOrigins, sequential (ms/request)',
            `same origin ${r.oidc.apiOrigins.msPerRequest.sameOrigin} | apiOrigins ${r.oidc.apiOrigins.msPerRequest.apiOrigin} | CORS, header by page, through the worker ${r.oidc.apiOrigins.msPerRequest.corsThroughWorker} | past it ${r.oidc.apiOrigins.msPerRequest.corsByPage}`,
            `apiOrigins/same origin ${r.oidc.apiOrigins.apiOriginOverSameOrigin}, apiOrigins/CORS through the worker ${r.oidc.apiOrigins.apiOriginOverCorsThroughWorker}, apiOrigins/CORS past it ${r.oidc.apiOrigins.apiOriginOverCorsByPage}`,
          ] as [string, string, string],
        ]
      : []),
    ['Steady state', `${r.steadyState.seconds} s: ${r.steadyState.refreshes} refreshes (expected ${r.steadyState.expectedRefreshes}), ${r.steadyState.unauthorized} 401s`, r.steadyState.unauthorized === 0 ? 'ok' : 'FAIL'],
    ...Object.entries(r.sizes).map(([name, s]): [string, string, string] =>
      s.maxGzipBytes === null
        ? [`Size: ${name} (gzip)`, `${s.gzipBytes} B`, 'no budget']
        : [`Size: ${name} (gzip)`, `${s.gzipBytes} B of ${s.maxGzipBytes} B`, s.withinBudget ? 'ok' : 'OVER BUDGET'],
    ),
  ];
  console.log(JSON.stringify(r.machine));
  const w = [Math.max(...rows.map((x) => x[0].length)), Math.max(...rows.map((x) => x[1].length))];
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w[0]!)}  ${b.padEnd(w[1]!)}  ${c}`);
}

const only = (['idle', 'wake', 'oidc'] as const).find((name) => process.argv.includes(`--${name}`));
await (only ? oneOnly(only) : main());
