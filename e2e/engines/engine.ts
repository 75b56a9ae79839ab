// What the cross-engine scenarios need of a browser, whatever drives it:
// WebKit through WebDriver (webkit.ts), Firefox through WebDriver BiDi with
// Puppeteer (firefox.ts), Chromium through Playwright (chromium.ts), so the
// same scenario code runs in all three.

/** A tab, as the driver names it. */
export type Tab = unknown;

export interface Engine {
  readonly name: string;
  /** Navigates the current tab. */
  goto(url: string): Promise<void>;
  /**
   * Runs `body`, the body of an async function whose arguments are `args`, in
   * the current tab, and resolves what it returns (JSON-serialisable).
   */
  run<T>(body: string, ...args: unknown[]): Promise<T>;
  currentTab(): Promise<Tab>;
  /** Opens a tab and makes it the current one. */
  newTab(): Promise<Tab>;
  switchTo(tab: Tab): Promise<void>;
  /** Closes a tab, as the user does; if it was the current one, switch to another before running anything. */
  closeTab(tab: Tab): Promise<void>;
  /**
   * The cookies the browser would send to `url`, HttpOnly ones included, as a
   * thief with a copy of the cookie jar would have them.
   */
  cookies(url: string): Promise<{ name: string; value: string }[]>;
  /**
   * Stops every service worker now, as the browser does when idle; only where
   * the driver can (Chromium's CDP). Elsewhere the scenarios stay away from the
   * origin until the browser stops the worker itself.
   */
  stopWorkers?(): Promise<void>;
  /**
   * Resolves once the browser has stopped the worker while it still answers a
   * fetch (the answer held at the server): Chromium through CDP, Firefox by
   * waiting out its idle and extended timeouts, after which it terminates even
   * a busy worker. Absent where the driver has no way (WebKit).
   */
  stopBusyWorkers?(): Promise<void>;
  close(): Promise<void>;
}

/** Polls `body` in the current tab until it returns something truthy. */
export async function waitFor(engine: Engine, body: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await engine.run<unknown>(body).catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${engine.name}: timed out waiting for ${body}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
