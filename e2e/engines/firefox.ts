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
    extraPrefsFirefox: { 'dom.serviceWorkers.idle_timeout': 3_000, 'dom.serviceWorkers.idle_extended_timeout': 5_000 },
  });
  try {
    const context = await browser.createBrowserContext();
    return pageEngine('Firefox', await context.newPage(), {
      newPage: () => context.newPage(),
      cookies: async (url) => {
        const { hostname, pathname } = new URL(url);
        return (await context.cookies()).filter((c) => c.domain.replace(/^\./, '') === hostname && pathname.startsWith(c.path)).map(({ name, value }) => ({ name, value }));
      },
      close: () => browser.close(),
    });
  } catch (err) {
    await browser.close();
    throw err;
  }
}
