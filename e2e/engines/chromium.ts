// Chromium through Playwright, behind the same Engine interface as WebKit and
// Firefox, so the cross-engine scenarios run here too and the browser table's
// Chromium column comes from the same scenario code (the Playwright specs in
// e2e/ go further, with request interception and CDP).
import { chromium, type Page } from '@playwright/test';
import { chromiumArgs, chromiumPath } from '../support/chromium.mjs';
import type { Engine } from './engine';

export async function startChromium(): Promise<Engine> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs });
  try {
    const context = await browser.newContext();
    let page: Page = await context.newPage();
    return {
      name: 'Chromium',
      goto: async (url) => {
        await page.goto(url);
      },
      run: <T>(body: string, ...args: unknown[]) =>
        page
          .evaluate(`(async (...args) => { ${body} })(...${JSON.stringify(args)})`)
          .catch((err: unknown) => Promise.reject(new Error(`in Chromium: ${String(err)}`))) as Promise<T>,
      currentTab: async () => page,
      newTab: async () => {
        page = await context.newPage();
        return page;
      },
      switchTo: async (tab) => {
        page = tab as Page;
        await page.bringToFront();
      },
      cookies: async (url) => (await context.cookies(url)).map(({ name, value }) => ({ name, value })),
      stopWorkers: async () => {
        const cdp = await context.newCDPSession(page);
        await cdp.send('ServiceWorker.enable');
        await cdp.send('ServiceWorker.stopAllWorkers');
        await cdp.detach();
      },
      close: () => browser.close(),
    };
  } catch (err) {
    await browser.close();
    throw err;
  }
}
