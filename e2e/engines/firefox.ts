// Firefox through WebDriver BiDi, with Puppeteer as the client: Debian's
// Firefox ESR. (Playwright 1.65 speaks BiDi too, but sends every new context a
// command this Firefox does not know, emulation.setMediaFeaturesOverride, and
// stops there.) Firefox stops an idle worker after its `idle_timeout`; it is
// set low here, as a browser under memory pressure would, so the restart
// scenario does not wait minutes.
import { existsSync } from 'node:fs';
import puppeteer from 'puppeteer-core';
import type { Engine } from './engine';
import { pageEngine } from './page-engine';

const FIREFOX = ['/usr/bin/firefox-esr', '/usr/bin/firefox'];

const IDLE_TIMEOUT_MS = 3_000;
// A worker still answering an event when its idle timeout fires gets this much longer, then Firefox terminates it
// whatever it is doing: the way to stop a busy worker here, as no driver command does.
const IDLE_EXTENDED_TIMEOUT_MS = 5_000;
// Past both, from the fetch that started the wait; the margin is for a loaded machine.
const BUSY_STOP_MS = IDLE_TIMEOUT_MS + IDLE_EXTENDED_TIMEOUT_MS + 3_000;

export function missingForFirefox(): string[] {
  return FIREFOX.some((p) => existsSync(p)) ? [] : ['firefox-esr'];
}

export async function startFirefox(): Promise<Engine> {
  const missing = missingForFirefox();
  if (missing.length > 0) throw new Error(`The Firefox tests need the Debian package firefox-esr (apt-get install firefox-esr)`);
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX.find((p) => existsSync(p)),
    headless: true,
    extraPrefsFirefox: { 'dom.serviceWorkers.idle_timeout': IDLE_TIMEOUT_MS, 'dom.serviceWorkers.idle_extended_timeout': IDLE_EXTENDED_TIMEOUT_MS },
  });
  try {
    const context = await browser.createBrowserContext();
    return pageEngine('Firefox', await context.newPage(), {
      newPage: () => context.newPage(),
      cookies: async (url) => {
        const { hostname, pathname } = new URL(url);
        return (await context.cookies()).filter((c) => c.domain.replace(/^\./, '') === hostname && pathname.startsWith(c.path)).map(({ name, value }) => ({ name, value }));
      },
      stopBusyWorkers: () => new Promise((r) => setTimeout(r, BUSY_STOP_MS)),
      close: () => browser.close(),
    });
  } catch (err) {
    await browser.close();
    throw err;
  }
}
