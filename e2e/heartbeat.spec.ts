// The client's heartbeat: while a page of the app is open its worker is not
// stopped at idle, so the token it holds in memory lives on without a refresh;
// with no page open the browser stops it as usual. In a Chromium that only the
// page's own CDP session drives (see support/bare-chromium.ts for why not Playwright's).
import { test, expect } from './support/fixtures';
import { bareChromium, type BarePage } from './support/bare-chromium';

// Chromium stops a worker idle for 30 s, checking on a 30 s tick: past 60 s quiet it has had every chance.
const PAST_IDLE_MS = 75_000;

test.setTimeout(260_000);

let browser: BarePage | undefined;
test.afterEach(async () => {
  await browser?.close();
  browser = undefined;
});

const lastStatus = (b: BarePage) => b.statuses.at(-1)?.version.runningStatus;

test('with a page open the worker outlives the idle timeout and keeps its token; with none open it is stopped', async ({ server }) => {
  browser = await bareChromium();
  await browser.navigate(server.url);
  await expect.poll(() => browser!.evaluate<boolean>(`document.body.dataset.ready === 'true' && !!navigator.serviceWorker.controller`), { timeout: 15_000 }).toBe(true);
  await browser.evaluate(`window.tokenBroker.login({ username: 'alice', password: 'wonderland' }).then(() => true)`);
  const loggedInAt = browser.statuses.length;
  const refreshes = server.stats.refresh;

  await new Promise((r) => setTimeout(r, PAST_IDLE_MS));
  expect(browser.statuses.slice(loggedInAt).map((s) => s.version.runningStatus)).not.toContain('stopped');
  expect(lastStatus(browser)).toBe('running');
  // The token is still the one held in memory: the call needs no silent refresh.
  expect(await browser.evaluate<number>(`fetch('/api/me').then((r) => r.status)`)).toBe(200);
  expect(server.stats.refresh).toBe(refreshes);

  // No page of the app open (this session stays attached to the blank page): the browser stops the worker.
  const leftAt = Date.now();
  await browser.navigate('about:blank');
  await expect.poll(() => lastStatus(browser!), { timeout: 120_000, intervals: [1000] }).toBe('stopped');
  console.log(`stopped ${((Date.now() - leftAt) / 1000).toFixed(0)} s after the last page left`);
});
