// `npm run bench:dpop`: what DPoP costs per API request, end to end in
// Chromium, as a ratio against bearer tokens measured in the same run. Two
// browser contexts on one in-process reference server, one with the worker's
// `dpop` off and one with it on, run rounds of sequential GETs in turn (the
// order alternates each round), so drift on a shared machine hits both alike.
// The functions given to page.evaluate run in the page, with its globals:
/* global performance, document, window */
import { chromium } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { chromiumArgs, chromiumPath } from '../e2e/support/chromium.mjs';
import { startServer } from '../dist/reference-server/app.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS || 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 7);
const WARMUP = 50;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** Milliseconds for `n` sequential GETs from page script, each body read to the end. */
function timeRequests(page, n) {
  return page.evaluate(async (count) => {
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const res = await fetch('/api/me');
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      await res.arrayBuffer();
    }
    return performance.now() - start;
  }, n);
}

async function openSignedIn(browser, url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${url}/`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: 15_000 });
  const session = await page.evaluate(() => window.tokenBroker.login({ username: 'alice', password: 'wonderland' }));
  if (!session.authenticated) throw new Error('login failed');
  await timeRequests(page, WARMUP);
  return { context, page };
}

// One server per mode, in this process: the worker's configuration is the server's to serve.
// DPoP runs as the reference setup does (DPOP=required, nonces on); bearer on a server where DPoP is optional.
const common = { publicDir: 'public', accessTokenTtl: 3600, authRateLimit: 1_000_000 };
const servers = {
  bearer: await startServer({ ...common, dpop: 'optional', dpopNonce: false, workerConfig: { dpop: false } }),
  dpop: await startServer(common),
};
const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs });
try {
  const modes = { bearer: await openSignedIn(browser, servers.bearer.url), dpop: await openSignedIn(browser, servers.dpop.url) };
  const perRequest = { bearer: [], dpop: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? ['dpop', 'bearer'] : ['bearer', 'dpop'];
    for (const mode of order) perRequest[mode].push((await timeRequests(modes[mode].page, REQUESTS)) / REQUESTS);
    console.log(`round ${round + 1}/${ROUNDS}: bearer ${perRequest.bearer.at(-1).toFixed(3)} ms, dpop ${perRequest.dpop.at(-1).toFixed(3)} ms per request`);
  }
  const bearer = median(perRequest.bearer);
  const dpop = median(perRequest.dpop);
  const report = {
    date: new Date().toISOString(),
    requestsPerRound: REQUESTS,
    rounds: ROUNDS,
    medianMsPerRequest: { bearer, dpop },
    ratio: dpop / bearer,
    extraMsPerRequest: dpop - bearer,
    perRound: perRequest,
    serverStats: { bearer: servers.bearer.stats, dpop: servers.dpop.stats },
  };
  console.log(`\nmedian per request: bearer ${bearer.toFixed(3)} ms, dpop ${dpop.toFixed(3)} ms; ratio ${report.ratio.toFixed(2)} (+${report.extraMsPerRequest.toFixed(3)} ms)`);
  writeFileSync('bench/dpop-report.json', JSON.stringify(report, null, 2) + '\n');
  console.log('wrote bench/dpop-report.json');
} finally {
  await browser.close();
  await Promise.all(Object.values(servers).map((s) => s.close()));
}
