// The Engine over a driver whose tabs are page objects with goto, evaluate and
// bringToFront: Playwright's Page (chromium.ts) and Puppeteer's (firefox.ts)
// alike, so the two drivers differ only in how they launch and read cookies.
import type { Engine } from './engine';

export interface DriverPage {
  goto(url: string): Promise<unknown>;
  evaluate(expression: string): Promise<unknown>;
  bringToFront(): Promise<void>;
  close(): Promise<void>;
}

export function pageEngine<P extends DriverPage>(
  name: string,
  first: P,
  driver: { newPage(): Promise<P>; cookies: Engine['cookies']; close(): Promise<void>; stopWorkers?(page: P): Promise<void>; stopBusyWorkers?(page: P): Promise<void> },
): Engine {
  let page = first;
  const engine: Engine = {
    name,
    goto: async (url) => {
      await page.goto(url);
    },
    run: <T>(body: string, ...args: unknown[]) =>
      page.evaluate(`(async (...args) => { ${body} })(...${JSON.stringify(args)})`).catch((err: unknown) => Promise.reject(new Error(`in ${name}: ${String(err)}`))) as Promise<T>,
    currentTab: async () => page,
    newTab: async () => {
      page = await driver.newPage();
      return page;
    },
    switchTo: async (tab) => {
      page = tab as P;
      await page.bringToFront();
    },
    closeTab: (tab) => (tab as P).close(),
    cookies: driver.cookies,
    close: driver.close,
  };
  const { stopWorkers } = driver;
  if (stopWorkers) engine.stopWorkers = () => stopWorkers(page);
  const { stopBusyWorkers } = driver;
  if (stopBusyWorkers) engine.stopBusyWorkers = () => stopBusyWorkers(page);
  return engine;
}
