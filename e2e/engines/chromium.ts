// Chromium through Playwright, behind the same Engine interface as WebKit and
// Firefox, so the cross-engine scenarios run here too and the browser table's
// Chromium column comes from the same scenario code (the Playwright specs in
// e2e/ go further, with request interception and CDP).
import { chromium, type Page } from '@playwright/test';
import { chromiumArgs, chromiumPath } from '../support/chromium.mjs';
import type { Engine } from './engine';
import { pageEngine } from './page-engine';

export async function startChromium(): Promise<Engine> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs });
  try {
    const context = await browser.newContext();
    const stopWorkers = async (page: Page) => {
      const cdp = await context.newCDPSession(page);
      await cdp.send('ServiceWorker.enable');
      await cdp.send('ServiceWorker.stopAllWorkers');
      await cdp.detach();
    };
    return pageEngine('Chromium', await context.newPage(), {
      newPage: () => context.newPage(),
      cookies: async (url) => (await context.cookies(url)).map(({ name, value }) => ({ name, value })),
      stopWorkers,
      // CDP stops a worker whatever it is doing.
      stopBusyWorkers: stopWorkers,
      close: () => browser.close(),
    });
  } catch (err) {
    await browser.close();
    throw err;
  }
}
