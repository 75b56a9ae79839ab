// Firefox through WebDriver BiDi, with Puppeteer as the client: Debian's
// Firefox ESR. (Playwright 1.65 speaks BiDi too, but sends every new context a
// command this Firefox does not know, emulation.setMediaFeaturesOverride, and
// stops there.) Firefox stops an idle worker after its `idle_timeout`; it is
// set low here, as a browser under memory pressure would, so the restart
// scenario does not wait minutes.
import { existsSync } from 'node:fs';
import puppeteer, { type Page } from 'puppeteer-core';
import type { Engine } from './engine';

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
    let page: Page = await context.newPage();
    return {
      name: 'Firefox',
      goto: async (url) => {
        await page.goto(url);
      },
      run: <T>(body: string, ...args: unknown[]) =>
        page
          .evaluate(`(async (...args) => { ${body} })(...${JSON.stringify(args)})`)
          .catch((err: unknown) => Promise.reject(new Error(`in Firefox: ${String(err)}`))) as Promise<T>,
      currentTab: async () => page,
      newTab: async () => {
        page = await context.newPage();
        return page;
      },
      switchTo: async (tab) => {
        page = tab as Page;
        await page.bringToFront();
      },
      cookies: async (url) => {
        const { hostname, pathname } = new URL(url);
        return (await context.cookies()).filter((c) => c.domain.replace(/^\./, '') === hostname && pathname.startsWith(c.path)).map(({ name, value }) => ({ name, value }));
      },
      close: () => browser.close(),
    };
  } catch (err) {
    await browser.close();
    throw err;
  }
}
