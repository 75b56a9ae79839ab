// WebKit (the engine of Safari) through WebDriver: Debian's WebKitWebDriver
// drives WebKitGTK's MiniBrowser, in a virtual display (Xvfb, by xvfb-run).
// Playwright's own WebKit cannot be downloaded here, and this is the engine
// build the distribution ships. selenium-webdriver is the client.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { Builder, type WebDriver } from 'selenium-webdriver';

const MINIBROWSER = ['/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', '/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser'];
const DRIVER = '/usr/bin/WebKitWebDriver';
const XVFB_RUN = '/usr/bin/xvfb-run';

/** What is missing for the WebKit tests, by Debian package; empty when they can run. */
export function missingForWebKit(): string[] {
  const missing: string[] = [];
  if (!existsSync(DRIVER) || !MINIBROWSER.some(existsSync)) missing.push('webkit2gtk-driver');
  if (!existsSync(XVFB_RUN)) missing.push('xvfb');
  return missing;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitForDriver(port: number, driver: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited with ${driver.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/status`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('WebKitWebDriver did not start within 15 s');
}

export interface WebKit {
  driver: WebDriver;
  /** Runs `body` (an async function body; `args` are its arguments) in the current tab and resolves its result. */
  run<T>(body: string, ...args: unknown[]): Promise<T>;
  close(): Promise<void>;
}

export async function startWebKit(): Promise<WebKit> {
  const missing = missingForWebKit();
  if (missing.length > 0) throw new Error(`The WebKit tests need the Debian packages ${missing.join(', ')} (apt-get install ${missing.join(' ')})`);
  const port = await freePort();
  // xvfb-run picks a free display (-a) and runs the driver in it; the browser it starts inherits it.
  const process_ = spawn(XVFB_RUN, ['-a', DRIVER, `--port=${port}`], { stdio: 'ignore', detached: true });
  const stop = () => {
    try {
      process.kill(-process_.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  try {
    await waitForDriver(port, process_);
    const driver = await new Builder()
      .usingServer(`http://127.0.0.1:${port}`)
      .withCapabilities({ browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: MINIBROWSER.find(existsSync), args: ['--automation'] } })
      .build();
    await driver.manage().setTimeouts({ script: 20_000 });
    return {
      driver,
      run: <T>(body: string, ...args: unknown[]) =>
        driver.executeAsyncScript<T>(
          `const done = arguments[arguments.length - 1];
           (async (...args) => { ${body} })(...Array.prototype.slice.call(arguments, 0, -1))
             .then((value) => done({ value }), (e) => done({ error: String(e && e.stack || e) }));`,
          ...args,
        ).then((r) => {
          const result = r as { value?: T; error?: string };
          if (result.error !== undefined) throw new Error(`in WebKit: ${result.error}`);
          return result.value as T;
        }),
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
