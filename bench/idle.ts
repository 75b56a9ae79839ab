// What the default persistence costs a tab that is mostly idle, against the
// IndexedDB mode as it was before the heartbeat, in one run. An hour cannot be
// waited for, so time is scaled (SIM_MINUTE_MS of real time per simulated minute:
// token lifetimes, the refresh margin and the pauses between calls), and the
// browser's idle stop is emulated with CDP `ServiceWorker.stopAllWorkers`:
// Playwright keeps every worker it attached to running, so Chromium would never
// stop one here by itself (e2e/heartbeat.spec.ts shows both). Variants:
// - indexeddb: the old default, no heartbeat: Chromium stops the worker 30 s
//   after a call, so before each call 5 minutes later it is stopped;
// - memory: the new default, with the page's heartbeat: never stopped while
//   the tab is open (what e2e/heartbeat.spec.ts shows), so never stopped here;
// - memoryNoPage: memory mode once nothing keeps the worker up (no page open,
//   or a browser that ignores the heartbeat): stopped before every call.
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { startServer } from '../reference-server/app';
import { brokerLogin, registerWorker, sequential } from './page-probes';
import { median, ratio, round } from './stats';

const SIM_MINUTE_MS = 400;
const VARIANTS = ['indexeddb', 'memory', 'memoryNoPage'] as const;
type IdleVariant = (typeof VARIANTS)[number];
const CREDENTIALS = { username: 'alice', password: 'wonderland' };
const API = '/api/time';

interface Tab {
  page: Page;
  context: BrowserContext;
  server: Awaited<ReturnType<typeof startServer>>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function openTab(browser: Browser, site: string, variant: IdleVariant, ttlMinutes: number): Promise<Tab> {
  const persist = variant === 'indexeddb' ? 'indexeddb' : 'memory';
  const server = await startServer({
    dpop: 'optional',
    dpopNonce: false,
    publicDir: site,
    // Whole seconds: the server's lifetimes are integers.
    accessTokenTtl: Math.round((ttlMinutes * SIM_MINUTE_MS) / 1000),
    authRateLimit: 1e9,
    // The default margin, 30 s, scaled.
    workerConfig: { persist, refreshBeforeExpiry: (0.5 * SIM_MINUTE_MS) / 1000 },
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/bench.html`);
  await page.evaluate(registerWorker, '/sw.js');
  await page.evaluate(brokerLogin, CREDENTIALS);
  return { page, context, server };
}

async function stop(tab: Tab): Promise<void> {
  const cdp = await tab.context.newCDPSession(tab.page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await cdp.detach();
}

/** One call after `idleMinutes` (simulated) of quiet; its real latency in ms. */
async function callAfterIdle(tab: Tab, variant: IdleVariant, idleMinutes: number): Promise<number> {
  await sleep(idleMinutes * SIM_MINUTE_MS);
  // Chromium would have stopped the worker 30 s into the pause.
  if (variant !== 'memory') await stop(tab);
  return tab.page.evaluate(sequential, { url: API, count: 1, authorization: null });
}

async function close(tabs: Tab[]): Promise<void> {
  for (const t of tabs) {
    await t.context.close();
    await t.server.close();
  }
}

/**
 * Refreshes in one simulated hour for a tab that calls the API every 5 minutes,
 * each variant in its own context and server, all at once (only counts, no timing).
 */
async function refreshesPerHour(browser: Browser, site: string, ttlMinutes: number, calls: number) {
  const tabs = await Promise.all(VARIANTS.map((v) => openTab(browser, site, v, ttlMinutes)));
  try {
    await Promise.all(
      tabs.map(async (tab, i) => {
        for (let c = 0; c < calls; c++) await callAfterIdle(tab, VARIANTS[i]!, 5);
      }),
    );
    const perHour = Object.fromEntries(tabs.map((t, i) => [VARIANTS[i], round((t.server.stats.refresh * 12) / calls, 1)])) as Record<IdleVariant, number>;
    return { accessTokenTtlMinutes: ttlMinutes, calls, perHour, memoryOverIndexeddb: ratio(perHour.memory, perHour.indexeddb), memoryNoPageOverIndexeddb: ratio(perHour.memoryNoPage, perHour.indexeddb) };
  } finally {
    await close(tabs);
  }
}

/** The first call's latency after 1 and 10 simulated minutes of quiet, fresh sign-in each round, variants interleaved. */
async function firstCallLatency(browser: Browser, site: string, ttlMinutes: number, rounds: number) {
  const out: Record<string, Record<IdleVariant, number[]>> = {};
  for (const idle of [1, 10]) {
    out[idle] = { indexeddb: [], memory: [], memoryNoPage: [] };
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < VARIANTS.length; i++) {
        const v = VARIANTS[(i + r) % VARIANTS.length]!;
        const tab = await openTab(browser, site, v, ttlMinutes);
        try {
          // Warm the path once, as an app that has been in use.
          await tab.page.evaluate(sequential, { url: API, count: 3, authorization: null });
          out[idle]![v].push(await callAfterIdle(tab, v, idle));
        } finally {
          await close([tab]);
        }
      }
    }
  }
  const summary = (idle: number) => {
    const ms = Object.fromEntries(VARIANTS.map((v) => [v, round(median(out[idle]![v]))])) as Record<IdleVariant, number>;
    return { ms, memoryOverIndexeddb: ratio(ms.memory, ms.indexeddb), memoryNoPageOverIndexeddb: ratio(ms.memoryNoPage, ms.indexeddb) };
  };
  return { accessTokenTtlMinutes: ttlMinutes, rounds, after1Minute: summary(1), after10Minutes: summary(10) };
}

/** `--quick` (CI): a quarter of an hour with 5-minute tokens, no latency rounds. */
export async function idleCost(browser: Browser, site: string, quick: boolean) {
  if (quick) return { simulatedMinuteMs: SIM_MINUTE_MS, refreshes: [await refreshesPerHour(browser, site, 5, 3)], latency: null };
  return {
    simulatedMinuteMs: SIM_MINUTE_MS,
    // The reference server's access tokens (5 minutes), and an hour as many providers issue.
    refreshes: [await refreshesPerHour(browser, site, 5, 12), await refreshesPerHour(browser, site, 60, 12)],
    latency: await firstCallLatency(browser, site, 5, 4),
  };
}
