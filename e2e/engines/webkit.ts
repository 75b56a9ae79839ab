// WebKit (the engine of Safari) through WebDriver: Debian's WebKitWebDriver
// drives WebKitGTK's MiniBrowser, in a virtual display (Xvfb, by xvfb-run).
// Playwright's own WebKit cannot be downloaded here, and this is the engine
// build the distribution ships. selenium-webdriver is the client.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Builder } from 'selenium-webdriver';
import type { Engine } from './engine';
import { freePort } from '../../test-support/free-port';

const MINIBROWSER = ['/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', '/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser'];
const DRIVER = '/usr/bin/WebKitWebDriver';
const XVFB_RUN = '/usr/bin/xvfb-run';

/** What is missing for the WebKit tests, by Debian package; empty when they can run. */
export function missingForWebKit(): string[] {
  const missing: string[] = [];
  if (!existsSync(DRIVER) || !MINIBROWSER.some((p) => existsSync(p))) missing.push('webkit2gtk-driver');
  if (!existsSync(XVFB_RUN)) missing.push('xvfb');
  return missing;
}


async function waitForDriver(port: number, exited: () => number | null): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (exited() !== null) throw new Error(`WebKitWebDriver exited with ${exited()}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/status`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('WebKitWebDriver did not start within 15 s');
}

export async function startWebKit(): Promise<Engine> {
  const missing = missingForWebKit();
  if (missing.length > 0) throw new Error(`The WebKit tests need the Debian packages ${missing.join(', ')} (apt-get install ${missing.join(' ')})`);
  const port = await freePort();
  // xvfb-run picks a free display (-a) and runs the driver in it; the browser it starts inherits it.
  const child = spawn(XVFB_RUN, ['-a', DRIVER, `--port=${port}`], { stdio: 'ignore', detached: true });
  const stop = () => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  try {
    await waitForDriver(port, () => child.exitCode);
    const driver = await new Builder()
      .usingServer(`http://127.0.0.1:${port}`)
      .withCapabilities({ browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: MINIBROWSER.find((p) => existsSync(p)), args: ['--automation'] } })
      .build();
    await driver.manage().setTimeouts({ script: 20_000 });
    return {
      name: 'WebKit',
      goto: (url) => driver.get(url),
      run: async <T>(body: string, ...args: unknown[]) => {
        const result = (await driver.executeAsyncScript(
          `const done = arguments[arguments.length - 1];
           (async (...args) => { ${body} })(...Array.prototype.slice.call(arguments, 0, -1))
             .then((value) => done({ value }), (e) => done({ error: String((e && e.stack) || e) }));`,
          ...args,
        )) as { value?: T; error?: string };
        if (result.error !== undefined) throw new Error(`in WebKit: ${result.error}`);
        return result.value as T;
      },
      currentTab: () => driver.getWindowHandle(),
      newTab: async () => {
        await driver.switchTo().newWindow('tab');
        return driver.getWindowHandle();
      },
      switchTo: (tab) => driver.switchTo().window(tab as string),
      // WebDriver closes only the current window, and then has none current: back to the one that was, if still open.
      closeTab: async (tab) => {
        const from = await driver.getWindowHandle().catch(() => null);
        await driver.switchTo().window(tab as string);
        await driver.close();
        if (from !== null && from !== tab) await driver.switchTo().window(from);
      },
      // WebDriver reads only the cookies of the current document: a tab of its own at the URL, closed again.
      cookies: async (url) => {
        const from = await driver.getWindowHandle();
        await driver.switchTo().newWindow('tab');
        try {
          await driver.get(url);
          return (await driver.manage().getCookies()).map(({ name, value }) => ({ name, value }));
        } finally {
          await driver.close();
          await driver.switchTo().window(from);
        }
      },
      close: async () => {
        await driver.quit().catch(() => undefined);
        stop();
      },
    };
  } catch (err) {
    stop();
    throw err;
  }
}
