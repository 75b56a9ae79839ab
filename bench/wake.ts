// What the first API call after a wake costs, with foreground refresh
// (`refreshOnResume`, the default) and without it (the behaviour before), in
// one run, against a warm call of the same tab. A wake is what the client does
// when a tab becomes visible: it posts `broker:resume` and does not wait. The
// app's first request then follows after a gap: 0 ms (the app fetches in its
// own visibilitychange handler, the same task) or 100 ms (the user's first
// tap). The tab has slept until its token is in the refresh margin, or past
// its expiry. A third variant, "fresh", has an hour-long token: the same sleep
// and wake need no refresh, so it is what a first call after a pause costs
// anyway (a paused tab's first call is slower than back-to-back ones for
// reasons of its own: idle connections, timers, CPU). Bearer tokens (`sw.js`); one reference server per variant, a
// fresh context each round, variants interleaved, medians.
import type { Browser, Page } from '@playwright/test';
import { MessageType } from '../sw/protocol';
import { startServer, type StartedServer } from '../reference-server/app';
import { brokerLogin, registerWorker, sequential } from './page-probes';
import { median, ratio, round } from './stats';

const VARIANTS = ['on', 'off', 'fresh'] as const;
type WakeVariant = (typeof VARIANTS)[number];
const CREDENTIALS = { username: 'alice', password: 'wonderland' };
const API = '/api/time';
// Whole seconds: the server's lifetimes are integers. The token is refreshed from 1 s and expires at 2 s.
const TTL_S = 2;
const MARGIN_S = 1;
const SLEEPS = { margin: 1_300, expired: 2_300 } as const;
const GAPS = [0, 100] as const;

/** In the page: the client's wake (a resume posted, not awaited), `gap` ms, then one timed API call. */
async function wakeThenCall({ url, gap, resume }: { url: string; gap: number; resume: string }): Promise<number> {
  // With a reply port, as the client sends every message; nobody waits for the reply.
  navigator.serviceWorker.controller!.postMessage({ type: resume }, [new MessageChannel().port2]);
  if (gap) await new Promise((r) => setTimeout(r, gap));
  const start = performance.now();
  const res = await fetch(url, { cache: 'no-store' });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  await res.arrayBuffer();
  return performance.now() - start;
}

async function signedInTab(browser: Browser, server: StartedServer) {
  const context = await browser.newContext();
  const page: Page = await context.newPage();
  await page.goto(`${server.url}/bench.html`);
  await page.evaluate(registerWorker, '/sw.js');
  await page.evaluate(brokerLogin, CREDENTIALS);
  return { context, page };
}

export async function wakeCost(browser: Browser, site: string, rounds: number) {
  const servers = {} as Record<WakeVariant, StartedServer>;
  for (const v of VARIANTS) {
    servers[v] = await startServer({
      dpop: 'optional',
      dpopNonce: false,
      publicDir: site,
      accessTokenTtl: v === 'fresh' ? 3600 : TTL_S,
      authRateLimit: 1e9,
      // A sign-in per round, as alice: more than the per-account limit allows a person.
      loginAccountRateLimit: 1e9,
      workerConfig: { refreshBeforeExpiry: MARGIN_S, refreshOnResume: v !== 'off' },
    });
  }
  type Case = `${keyof typeof SLEEPS}/${(typeof GAPS)[number]}`;
  const first = {} as Record<Case, Record<WakeVariant, number[]>>;
  const warm: Record<WakeVariant, number[]> = { on: [], off: [], fresh: [] };
  const refreshes: Record<WakeVariant, number> = { on: 0, off: 0, fresh: 0 };
  try {
    for (const sleep of Object.keys(SLEEPS) as (keyof typeof SLEEPS)[]) {
      for (const gap of GAPS) {
        const key: Case = `${sleep}/${gap}`;
        first[key] = { on: [], off: [], fresh: [] };
        for (let r = 0; r < rounds; r++) {
          for (let i = 0; i < VARIANTS.length; i++) {
            const v = VARIANTS[(i + r) % VARIANTS.length]!;
            const { context, page } = await signedInTab(browser, servers[v]);
            try {
              // A tab in use: warm calls on a fresh token are the baseline.
              await page.evaluate(sequential, { url: API, count: 3, authorization: null });
              for (let j = 0; j < 3; j++) warm[v].push(await page.evaluate(sequential, { url: API, count: 1, authorization: null }));
              await page.waitForTimeout(SLEEPS[sleep]);
              const before = servers[v].stats.refresh;
              first[key][v].push(await page.evaluate(wakeThenCall, { url: API, gap, resume: MessageType.resume }));
              refreshes[v] += servers[v].stats.refresh - before;
            } finally {
              await context.close();
            }
          }
        }
      }
    }
  } finally {
    for (const v of VARIANTS) await servers[v].close();
  }
  const warmMs = Object.fromEntries(VARIANTS.map((v) => [v, round(median(warm[v]))])) as Record<WakeVariant, number>;
  const cases = Object.fromEntries(
    Object.entries(first).map(([key, samples]) => {
      const ms = Object.fromEntries(VARIANTS.map((v) => [v, round(median(samples[v]))])) as Record<WakeVariant, number>;
      return [key, { ms, onOverFresh: ratio(ms.on, ms.fresh), offOverFresh: ratio(ms.off, ms.fresh), onOverOff: ratio(ms.on, ms.off) }];
    }),
  ) as Record<Case, { ms: Record<WakeVariant, number>; onOverFresh: number; offOverFresh: number; onOverOff: number }>;
  const wakes = rounds * GAPS.length * Object.keys(SLEEPS).length;
  return { rounds, accessTokenTtlS: TTL_S, refreshBeforeExpiryS: MARGIN_S, sleepMs: SLEEPS, warmMs, cases, refreshesPerWake: { on: round(refreshes.on / wakes, 2), off: round(refreshes.off / wakes, 2), fresh: round(refreshes.fresh / wakes, 2) } };
}
